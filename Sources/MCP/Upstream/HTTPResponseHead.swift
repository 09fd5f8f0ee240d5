/// The status line and headers of an HTTP/1.x response, parsed from the bytes before the blank line.
struct HTTPResponseHead: Sendable, Equatable {
    var status: Int
    /// `HTTP/1.0` or `HTTP/1.1`.
    var version: String
    /// Lower-cased names; a repeated header's values joined with ", ".
    var headers: [String: String]

    /// How the body that follows is delimited.
    enum Framing: Sendable, Equatable {
        /// No body (1xx, 204, 304).
        case none
        case length(Int)
        case chunked
        /// Up to the end of the connection (no length given): the connection cannot be reused.
        case untilClose
    }

    struct ParseError: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    /// Parses the head (without its final blank line).
    init(parsing bytes: ArraySlice<UInt8>) throws(ParseError) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { throw ParseError(description: "empty response head") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status) else {
            throw ParseError(description: "not an HTTP/1.x status line")
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw ParseError(description: "a header line without a colon") }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw ParseError(description: "a header without a name") }
            if let existing = headers[name] { headers[name] = existing + ", " + value } else { headers[name] = value }
        }
        self.status = status
        self.version = String(parts[0])
        self.headers = headers
    }

    init(status: Int, version: String = "HTTP/1.1", headers: [String: String]) {
        self.status = status
        self.version = version
        self.headers = headers
    }

    /// The body's delimitation (RFC 9112 section 6.3), or an error for a length that cannot be trusted.
    func framing() throws(ParseError) -> Framing {
        if (100..<200).contains(status) || status == 204 || status == 304 { return .none }
        if let encoding = headers["transfer-encoding"] {
            guard encoding.lowercased().split(separator: ",").last?.trimmingCharacters(in: .whitespaces) == "chunked" else {
                return .untilClose
            }
            return .chunked
        }
        if let length = headers["content-length"] {
            // Repeated identical values are allowed; anything else is a smuggling attempt or a broken server.
            let values = Set(length.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            guard values.count == 1, let only = values.first, let count = Int(only), count >= 0, only.allSatisfy(\.isNumber) else {
                throw ParseError(description: "an invalid Content-Length")
            }
            return .length(count)
        }
        return .untilClose
    }

    /// Whether the connection may carry another request after this response.
    var keepsConnection: Bool {
        let tokens = Set((headers["connection"] ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if tokens.contains("close") { return false }
        return version == "HTTP/1.1" || tokens.contains("keep-alive")
    }
}

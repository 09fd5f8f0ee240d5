/// The status line and headers of an HTTP/1.1 response.
public struct HTTPResponseHead: Sendable, Hashable {
    public var version: String
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders

    public init(version: String = "HTTP/1.1", status: Int, reason: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}

/// The request line and headers of an HTTP/1.1 request.
public struct HTTPRequestHead: Sendable, Hashable {
    public var method: String
    /// The request target exactly as sent (`/mcp/?token=...`): it may hold a secret, so never log it whole.
    public var target: String
    public var version: String
    public var headers: HTTPHeaders

    public init(method: String, target: String, version: String = "HTTP/1.1", headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The target's path without the query.
    public var path: String {
        target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
    }

    /// The decoded query parameters of the target, in order (`+` is not a space here, `%XX` is decoded).
    public var queryItems: [(name: String, value: String)] {
        guard let mark = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: mark)...].split(separator: "&").map { parameter in
            if let equals = parameter.firstIndex(of: "=") {
                return (
                    HTTPRequestHead.percentDecode(parameter[..<equals]),
                    HTTPRequestHead.percentDecode(parameter[parameter.index(after: equals)...])
                )
            }
            return (HTTPRequestHead.percentDecode(parameter), "")
        }
    }

    /// The first query parameter named `name`, decoded.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

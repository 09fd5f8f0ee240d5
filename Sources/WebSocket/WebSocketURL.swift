import ClientSupport
import Foundation

/// A parsed `ws://` or `wss://` address. The path and query are kept byte for byte as the request target.
public struct WebSocketURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case ws
        case wss

        public var defaultPort: UInt16 { self == .ws ? 80 : 443 }
    }

    public let scheme: Scheme
    /// The host without brackets: a name, an IPv4 address, or an IPv6 address (`::1`).
    public let host: String
    public let port: UInt16
    /// The HTTP request target: the path (at least `/`) and the query, exactly as written.
    public let requestTarget: String

    /// Whether the host is an IPv6 literal (written in brackets in the address).
    public var isIPv6: Bool { host.contains(":") }
    /// Whether the connection uses TLS.
    public var isSecure: Bool { scheme == .wss }
    /// The path without the query.
    public var path: String {
        requestTarget.firstIndex(of: "?").map { String(requestTarget[..<$0]) } ?? requestTarget
    }
    /// The query without the `?`, nil when absent.
    public var query: String? {
        requestTarget.firstIndex(of: "?").map { String(requestTarget[requestTarget.index(after: $0)...]) }
    }
    /// The `Host` header value: the host (bracketed when IPv6), with the port when not the scheme's default.
    public var hostHeader: String {
        let bracketed = isIPv6 ? "[\(host)]" : host
        return port == scheme.defaultPort ? bracketed : "\(bracketed):\(port)"
    }
    /// The address with every query value replaced by `***` (`/mcp/?token=***`): safe for logs and errors.
    public var redacted: String {
        var text = "\(scheme.rawValue)://\(hostHeader)\(path)"
        if let query { text += "?" + Redaction.allQueryValues(query) }
        return text
    }
    /// The full address, query included: it may hold a secret, so never log it (use `redacted`).
    public var absoluteString: String { "\(scheme.rawValue)://\(hostHeader)\(requestTarget)" }

    public var description: String { redacted }

    /// Parses an address; surrounding whitespace is ignored. Bytes beyond ASCII are percent-encoded
    /// first, as browsers and .NET's `Uri` do, so a combining mark cannot hide a `?`, `#` or `@` from
    /// the parser or the redaction, and a non-ASCII host is refused as an invalid host.
    public init(_ address: String) throws(WebSocketURLError) {
        let text = WebSocketURL.percentEncodingNonASCII(address.trimmingWhitespace())
        func failure(_ reason: WebSocketURLError.Reason) -> WebSocketURLError {
            WebSocketURLError(reason: reason, redactedAddress: Redaction.unparsedAddress(text))
        }
        if text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) { throw failure(.invalidCharacter) }
        guard let schemeEnd = text.range(of: "://") else {
            if let colon = text.firstIndex(of: ":"), WebSocketURL.isSchemeName(text[..<colon]) {
                throw failure(.unsupportedScheme(String(text[..<colon]).lowercased()))
            }
            throw failure(.missingScheme)
        }
        let schemeText = String(text[..<schemeEnd.lowerBound])
        guard WebSocketURL.isSchemeName(schemeText[...]) else { throw failure(.missingScheme) }
        guard let scheme = Scheme(rawValue: schemeText.lowercased()) else {
            throw failure(.unsupportedScheme(schemeText.lowercased()))
        }
        let rest = text[schemeEnd.upperBound...]
        if rest.contains("#") { throw failure(.fragmentNotAllowed) }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let target = rest[authorityEnd...]
        if authority.contains("@") { throw failure(.userInfoNotAllowed) }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw failure(.invalidIPv6Literal) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw failure(.invalidIPv6Literal) }
                portText = after.dropFirst()
            }
            guard WebSocketURL.isIPv6Address(host) else { throw failure(.invalidIPv6Literal) }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            guard !host.isEmpty else { throw failure(.emptyHost) }
            guard host.utf8.allSatisfy(WebSocketURL.isHostNameByte) else { throw failure(.invalidHost) }
            if host.hasPrefix(".") || host.hasPrefix("-") || host.contains("..") { throw failure(.invalidHost) }
        }
        var port = scheme.defaultPort
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = UInt16(portText), value > 0
            else { throw failure(.invalidPort) }
            port = value
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.requestTarget = target.isEmpty ? "/" : (target.hasPrefix("?") ? "/" + target : String(target))
    }

    // MARK: Helpers

    private static func percentEncodingNonASCII(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 }) else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if byte < 0x80 {
                bytes.append(byte)
            } else {
                bytes += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isSchemeName(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A else { return false }
        return text.utf8.allSatisfy { byte in
            let lower = byte | 0x20
            return (lower >= 0x61 && lower <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2D
                || byte == 0x2E
        }
    }

    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        return (lower >= 0x61 && lower <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
            || byte == 0x5F
    }

    /// RFC 4291 text form: up to eight groups of 1-4 hex digits, one `::`, an optional dotted IPv4 tail.
    static func isIPv6Address(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 45 else { return false }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ part: String) -> [Substring]? {
            part.isEmpty ? [] : part.split(separator: ":", omittingEmptySubsequences: false)
        }
        guard let head = groups(halves[0]) else { return false }
        let tail = halves.count == 2 ? (groups(halves[1]) ?? []) : []
        var all = head + tail
        var count = 0
        if let last = all.last, last.contains(".") {
            guard isIPv4Address(last) else { return false }
            all.removeLast()
            count += 2
        }
        for group in all {
            guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit) else { return false }
        }
        count += all.count
        return halves.count == 2 ? count <= 7 : count == 8
    }

    private static func isIPv4Address(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                (1...3).contains(part.count) && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && Int(part).map { $0 <= 255 } == true
            }
    }


}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

/// One server of a connection URL's host list: `host`, `host:port`, `[v6]` or `[v6]:port`.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 host in brackets.
    public var description: String {
        (host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host) + ":" + String(port)
    }

    /// Parses a comma-separated host list (the authority of `amqp://u:p@h1:5672,h2:5672/vhost`, libpq's
    /// multi-host URLs, or a list of sentinels); a server without a port gets `defaultPort`. The error
    /// says which entry is wrong and why, for the caller to wrap with the redacted URL or key name.
    public static func parseList(_ text: Substring, defaultPort: Int) throws(ServerAddressError) -> [ServerAddress] {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        guard entries.count <= 64 else { throw ServerAddressError(entry: "", reason: "more than 64 servers") }
        var addresses: [ServerAddress] = []
        for entry in entries {
            let trimmed = entry.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()
            addresses.append(try parse(Substring(trimmed), defaultPort: defaultPort))
        }
        return addresses
    }

    /// Parses one `host[:port]` entry.
    public static func parse(_ entry: Substring, defaultPort: Int) throws(ServerAddressError) -> ServerAddress {
        func fail(_ reason: String) -> ServerAddressError { ServerAddressError(entry: String(entry), reason: reason) }
        var hostText: Substring
        var portText: Substring?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
            hostText = entry[entry.index(after: entry.startIndex)..<close]
            let after = entry[entry.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = entry.lastIndex(of: ":") {
            hostText = entry[..<colon]
            portText = entry[entry.index(after: colon)...]
            if hostText.contains(":") { throw fail("an IPv6 address needs brackets") }
        } else {
            hostText = entry
        }
        guard let host = percentDecoded(hostText) else { throw fail("malformed percent-encoding in the host") }
        guard !host.isEmpty else { throw fail("missing host") }
        guard host.utf8.count <= 253, !host.contains(where: { $0 == "@" || $0 == "/" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
            throw fail("invalid host")
        }
        var port = defaultPort
        if let portText {
            guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(portText), (1...65535).contains(value) else {
                throw fail("port '\(portText)' is not a number from 1 to 65535")
            }
            port = value
        }
        return ServerAddress(host: host, port: port)
    }
}

/// A host-list entry that is not `host[:port]`.
public struct ServerAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry as written (an address, never a credential).
    public var entry: String
    public var reason: String

    public var description: String {
        entry.isEmpty ? reason : "'\(entry)': \(reason)"
    }
}

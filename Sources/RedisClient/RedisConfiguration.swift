import ClientSupport

/// Where and how to reach a Redis server: parsed from `REDIS_URL`
/// (`redis://[[user]:password@]host[:port][/db]`), plus connect and command timeouts.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The ACL user for `AUTH user password`; nil means `AUTH password` (the default user).
    public var username: String?
    public var password: String?
    /// The logical database chosen with `SELECT` on connect.
    public var database: Int
    /// How long establishing the TCP connection may take.
    public var connectTimeout: Duration
    /// How long one command (or one pipeline's reply) may take before the call fails with a timeout.
    public var commandTimeout: Duration

    public init(
        host: String,
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Parses a `redis://` URL; throws `RedisError.invalidURL` naming the URL with its password redacted.
    public init(url: String, connectTimeout: Duration = .seconds(5), commandTimeout: Duration = .seconds(10)) throws(RedisError) {
        func invalid(_ reason: String) -> RedisError {
            .invalidURL(url: redactingPassword(in: url), reason: reason)
        }
        guard let schemeEnd = url.range(of: "://") else {
            throw invalid("expected redis://[[user]:password@]host[:port][/db]")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else {
            if scheme == "rediss" { throw invalid("TLS (rediss://) is not supported by this client") }
            throw invalid("unsupported scheme '\(scheme)', expected redis://")
        }
        var rest = url[schemeEnd.upperBound...]
        if rest.contains("?") || rest.contains("#") {
            throw invalid("query parameters and fragments are not supported")
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                guard let user = percentDecoded(userInfo[..<colon]),
                      let secret = percentDecoded(userInfo[userInfo.index(after: colon)...])
                else { throw invalid("malformed percent-encoding in the user information") }
                username = user.isEmpty ? nil : user
                password = secret.isEmpty ? nil : secret
            } else {
                guard let user = percentDecoded(userInfo) else {
                    throw invalid("malformed percent-encoding in the user information")
                }
                username = user.isEmpty ? nil : user
            }
        }
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
            path = ""
        }
        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        var port = 6379
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port '\(portText)' is not a number from 1 to 65535")
            }
            port = value
        }
        var database = 0
        if !path.isEmpty {
            guard let value = Int(path), value >= 0 else {
                throw invalid("database '\(path)' is not a non-negative number")
            }
            database = value
        }
        self.init(
            host: String(host), port: port, username: username, password: password, database: database,
            connectTimeout: connectTimeout, commandTimeout: commandTimeout
        )
    }

    /// The server as `host:port/db`, for messages (never includes credentials).
    public var serverDescription: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port)/\(database)"
    }
}

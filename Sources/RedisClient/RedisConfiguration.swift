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
    /// When set, the server is the master these sentinels name, and `host`/`port` are not used.
    public var sentinel: RedisSentinel?

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
            .invalidURL(url: Redaction.urlPassword(url), reason: reason)
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
        let server: ServerAddress
        do throws(ServerAddressError) {
            server = try ServerAddress.parse(authority, defaultPort: 6379)
        } catch {
            throw invalid(error.reason)
        }
        var database = 0
        if !path.isEmpty {
            guard let value = Int(path), value >= 0 else {
                throw invalid("database '\(path)' is not a non-negative number")
            }
            database = value
        }
        self.init(
            host: server.host, port: server.port, username: username, password: password, database: database,
            connectTimeout: connectTimeout, commandTimeout: commandTimeout
        )
    }

    /// The server as `host:port/db` (or the sentinels' master name), for messages (never includes credentials).
    public var serverDescription: String {
        if let sentinel { return sentinel.description + "/\(database)" }
        return ServerAddress(host: host, port: port).description + "/\(database)"
    }
}

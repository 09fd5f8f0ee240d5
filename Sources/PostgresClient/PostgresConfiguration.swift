import ClientSupport

/// Where and how to reach Postgres: parsed from `DATABASE_URL`
/// (`postgres://user:pass@host:port/db?sslmode=...`, or `postgresql://`), plus timeouts and backoff.
/// It becomes libpq keyword/value pairs, never a concatenated conninfo string. Several servers
/// (`postgres://u:p@h1:5432,h2:5432/db?target_session_attrs=read-write`) are tried in order by libpq,
/// which keeps the first that has the asked-for attributes: after a failover, the promoted standby.
public struct PostgresConfiguration: Sendable, Equatable {
    /// The servers, in the order libpq tries them.
    public var servers: [ServerAddress]
    public var user: String
    public var password: String?
    public var database: String
    /// libpq's `sslmode` (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`); nil leaves libpq's default.
    public var sslMode: String?
    /// Further libpq keywords from the URL's query (`application_name`, `sslrootcert`, `options`...).
    public var extraParameters: [String: String]
    /// How long establishing a connection may take (libpq's `connect_timeout`, whole seconds, at least 2).
    public var connectTimeout: Duration
    /// The server-side `statement_timeout` for every statement on the connection; nil means none.
    public var statementTimeout: Duration?
    /// After a failed connect, calls fail fast with that error for this long before trying again;
    /// the delay doubles with each further failure up to `reconnectMaximumDelay`.
    public var reconnectInitialDelay: Duration = .milliseconds(100)
    public var reconnectMaximumDelay: Duration = .seconds(5)

    /// The keywords a URL's query may set, besides `sslmode` and `statement_timeout` (milliseconds).
    public static let allowedQueryKeywords: Set<String> = [
        "application_name", "connect_timeout", "options", "sslcert", "sslkey", "sslrootcert", "sslcrl",
        "target_session_attrs", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
    ]
    static let sslModes: Set<String> = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    public init(
        host: String,
        port: Int = 5432,
        user: String,
        password: String? = nil,
        database: String,
        sslMode: String? = nil,
        extraParameters: [String: String] = [:],
        connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration? = nil
    ) {
        self.init(
            servers: [ServerAddress(host: host, port: port)], user: user, password: password, database: database,
            sslMode: sslMode, extraParameters: extraParameters, connectTimeout: connectTimeout, statementTimeout: statementTimeout
        )
    }

    public init(
        servers: [ServerAddress],
        user: String,
        password: String? = nil,
        database: String,
        sslMode: String? = nil,
        extraParameters: [String: String] = [:],
        connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration? = nil
    ) {
        self.servers = servers
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.extraParameters = extraParameters
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
    }

    /// Parses a `postgres://` or `postgresql://` URL; throws `PostgresError` (kind `invalidURL`) naming
    /// the URL with its password redacted.
    public init(url: String, connectTimeout: Duration = .seconds(5), statementTimeout: Duration? = nil) throws(PostgresError) {
        let redacted = Redaction.urlPassword(url)
        func invalid(_ reason: String) -> PostgresError {
            PostgresError(kind: .invalidURL, server: redacted, message: reason)
        }
        guard let schemeEnd = url.range(of: "://") else {
            throw invalid("expected postgres://user:password@host:port/database")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("unsupported scheme '\(scheme)', expected postgres:// or postgresql://")
        }
        var rest = url[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring = ""
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let userPart = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? userInfo
            guard let decodedUser = percentDecoded(userPart) else {
                throw invalid("malformed percent-encoding in the user name")
            }
            user = decodedUser.isEmpty ? nil : decodedUser
            if let colon = userInfo.firstIndex(of: ":") {
                guard let decoded = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                    throw invalid("malformed percent-encoding in the password")
                }
                password = decoded
            }
        }
        let authority: Substring
        var databasePart: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            databasePart = rest[rest.index(after: slash)...]
        } else {
            authority = rest
        }
        let servers: [ServerAddress]
        do throws(ServerAddressError) {
            servers = try ServerAddress.parseList(authority, defaultPort: 5432)
        } catch {
            throw invalid("host list: \(error)")
        }
        guard let database = percentDecoded(databasePart) else {
            throw invalid("malformed percent-encoding in the database name")
        }
        guard let user else { throw invalid("missing user name") }

        var sslMode: String?
        var statementTimeout = statementTimeout
        var extra: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let key = percentDecoded(parts[0]), let value = percentDecoded(parts[1]) else {
                throw invalid("malformed query parameter '\(pair.split(separator: "=").first ?? "")'")
            }
            switch key {
            case "sslmode":
                guard Self.sslModes.contains(value) else {
                    throw invalid("sslmode '\(value)' is not one of \(Self.sslModes.sorted().joined(separator: ", "))")
                }
                sslMode = value
            case "statement_timeout":
                guard let milliseconds = Int(value), milliseconds >= 0 else {
                    throw invalid("statement_timeout '\(value)' is not a number of milliseconds")
                }
                statementTimeout = milliseconds == 0 ? nil : .milliseconds(milliseconds)
            case "connect_timeout":
                guard let seconds = Int(value), seconds >= 0 else {
                    throw invalid("connect_timeout '\(value)' is not a number of seconds")
                }
                extra[key] = value
            case _ where Self.allowedQueryKeywords.contains(key):
                extra[key] = value
            default:
                throw invalid("unsupported query parameter '\(key)'")
            }
        }
        self.init(
            servers: servers, user: user, password: password,
            database: database.isEmpty ? user : database, sslMode: sslMode, extraParameters: extra,
            connectTimeout: connectTimeout, statementTimeout: statementTimeout
        )
    }

    /// The servers as `host:port[,host:port...]/db`, for messages (never includes credentials).
    public var serverDescription: String {
        servers.map(\.description).joined(separator: ",") + "/" + database
    }

    /// The libpq keyword/value pairs for `PQconnectdbParams`. Sessions use ISO dates in UTC and UTF-8,
    /// which the result decoding relies on.
    public var connectionParameters: [(keyword: String, value: String)] {
        var parameters: [(keyword: String, value: String)] = [
            ("host", servers.map(\.host).joined(separator: ",")),
            ("port", servers.map { String($0.port) }.joined(separator: ",")),
            ("user", user), ("dbname", database),
        ]
        if let password { parameters.append(("password", password)) }
        if let sslMode { parameters.append(("sslmode", sslMode)) }
        if extraParameters["connect_timeout"] == nil {
            let seconds = max(2, Int(connectTimeout.components.seconds) + (connectTimeout.components.attoseconds > 0 ? 1 : 0))
            parameters.append(("connect_timeout", String(seconds)))
        }
        if extraParameters["application_name"] == nil {
            parameters.append(("application_name", "xiaozhi-recovery-pool"))
        }
        var options = ["-c DateStyle=ISO", "-c TimeZone=UTC", "-c client_encoding=UTF8"]
        if let statementTimeout {
            let (seconds, attoseconds) = statementTimeout.components
            let milliseconds = max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
            options.append("-c statement_timeout=\(milliseconds)")
        }
        for key in extraParameters.keys.sorted() {
            let value = extraParameters[key]!
            if key == "options" {
                options.insert(value, at: 0)
            } else {
                parameters.append((key, value))
            }
        }
        parameters.append(("options", options.joined(separator: " ")))
        return parameters
    }
}

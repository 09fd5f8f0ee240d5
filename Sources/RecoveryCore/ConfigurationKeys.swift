/// One configuration key: its name (`Section:Name`, as the original platform spelled its own), default,
/// accepted values and meaning. `ConfigurationKeys.all` is the single list the loader, the printer and
/// the documentation use.
public struct ConfigurationKey: Sendable, Equatable, Hashable {
    /// What values a key accepts.
    public enum ValueKind: Sendable, Equatable, Hashable {
        /// An integer in a range.
        case integer(ClosedRange<Int>)
        /// A comma-separated list (a JSON array in the file) of increasing integers in a range, with 1...maxCount items.
        case integerList(ClosedRange<Int>, maxCount: Int)
        /// One of a fixed set of words (matched case-insensitively).
        case choice([String])
        /// A string matching a character rule.
        case text(TextRule)
        /// A connection URL with one of these schemes; empty means unset. Its password is masked when printed.
        case url(schemes: [String])
    }

    /// Character rules for text keys.
    public enum TextRule: Sendable, Equatable, Hashable {
        /// A SQL identifier prefix: letters, digits and `_`, not starting with a digit, at most 42 characters; may be empty.
        case identifierPrefix
        /// An AMQP name part: 1-200 letters, digits, `.`, `-`, `_`.
        case amqpName
        /// An instance id: empty (generate one) or up to 200 letters, digits, `.`, `-`, `_`, `:`.
        case instanceId
        /// A host name or address.
        case host
        /// A file path; empty means unset.
        case optionalPath
        /// Empty, or comma-separated `host:port` servers (`[v6]:port` for IPv6).
        case serverList
        /// Empty, or a secret of 16-512 printable ASCII characters without spaces; never printed.
        case secret
        /// Empty, or a password another system chose: 1-512 printable ASCII characters without spaces; never printed.
        case password
    }

    public let name: String
    public let defaultValue: String
    public let kind: ValueKind
    public let summary: String

    init(_ name: String, _ defaultValue: String, _ kind: ValueKind, _ summary: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.kind = kind
        self.summary = summary
    }

    /// The ASP.NET environment form: `ConnectionMonitor__CheckIntervalSeconds`.
    public var environmentName: String { name.replacingOccurrences(of: ":", with: "__") }

    /// Whether printed values must be masked.
    public var isSecretBearing: Bool {
        if case .url = kind { return true }
        return isSecret
    }

    /// Whether the whole value is a secret (shown only as set or unset).
    public var isSecret: Bool { kind == .text(.secret) || kind == .text(.password) }

    /// What a valid value looks like, for error messages and documentation.
    public var expected: String {
        switch kind {
        case .integer(let range): return "an integer from \(range.lowerBound) to \(range.upperBound)"
        case .integerList(let range, let maxCount):
            return "1 to \(maxCount) comma-separated integers from \(range.lowerBound) to \(range.upperBound), increasing"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        case .text(.identifierPrefix): return "letters, digits and '_', not starting with a digit, at most 42 characters"
        case .text(.amqpName): return "1-200 letters, digits, '.', '-' or '_'"
        case .text(.instanceId): return "empty or at most 200 letters, digits, '.', '-', '_' or ':'"
        case .text(.host): return "a host name or IP address"
        case .text(.optionalPath): return "a file path, or empty"
        case .text(.serverList): return "empty, or comma-separated host:port servers"
        case .text(.secret): return "empty, or 16 to 512 printable ASCII characters without spaces"
        case .text(.password): return "empty, or 1 to 512 printable ASCII characters without spaces"
        case .url(let schemes): return "a URL with scheme " + schemes.joined(separator: " or ") + " and a host"
        }
    }
}

/// Every configuration key, in the order they are printed.
public enum ConfigurationKeys {
    public static let checkInterval = ConfigurationKey(
        "ConnectionMonitor:CheckIntervalSeconds", "30", .integer(1...86_400),
        "Seconds between two reconcile cycles of the leading scheduler.")
    public static let heartbeatTimeout = ConfigurationKey(
        "ConnectionMonitor:HeartbeatTimeoutSeconds", "90", .integer(2...86_400),
        "A state whose LastHeartbeat is older than this is stale (deleted and recovered).")
    public static let reconnectCooldown = ConfigurationKey(
        "ConnectionMonitor:ReconnectCooldownSeconds", "60", .integer(0...86_400),
        "Minimum seconds between two jobs the scheduler publishes for one endpoint.")
    public static let tablePrefix = ConfigurationKey(
        "Database:TablePrefix", "verdure_", .text(.identifierPrefix),
        "Prefix of the original platform's table names.")
    public static let leaseTtl = ConfigurationKey(
        "Recovery:LeaseTtlSeconds", "15", .integer(3...600),
        "TTL of an endpoint's lease; the holder renews it every third of this, its leases spread over that interval in up to 8 batches. A killed worker's endpoints recover after it lapses.")
    public static let heartbeatInterval = ConfigurationKey(
        "Recovery:HeartbeatIntervalSeconds", "20", .integer(1...43_200),
        "Seconds between two LastHeartbeat writes of a held session; at most half of HeartbeatTimeoutSeconds.")
    public static let parkPeriod = ConfigurationKey(
        "Recovery:ParkSeconds", "3600", .integer(1...31_536_000),
        "How long an endpoint dead-lettered for a transient failure stays parked.")
    public static let pendingTtl = ConfigurationKey(
        "Recovery:PendingTtlSeconds", "900", .integer(10...604_800),
        "TTL of the pending-job marker that stops an endpoint from being queued twice; more than the longest retry step plus the connect timeout.")
    public static let shutdownGrace = ConfigurationKey(
        "Recovery:ShutdownGraceSeconds", "20", .integer(1...600),
        "Bound on a worker's graceful shutdown (hand-off of every session) after SIGTERM.")
    public static let leaderLease = ConfigurationKey(
        "Scheduler:LeaderLeaseSeconds", "15", .integer(3...600),
        "TTL of the scheduler leader lease; only its holder runs reconcile cycles.")
    public static let fullReadEvery = ConfigurationKey(
        "Scheduler:FullReadEveryCycles", "10", .integer(1...10_000),
        "Every Nth cycle reads every endpoint's keys; the others read only the held-sessions index and the endpoints it does not vouch for. 1 reads every key every cycle.")
    public static let instanceId = ConfigurationKey(
        "Worker:InstanceId", "", .text(.instanceId),
        "This process's instance id; empty means host:pid:random.")
    public static let maxSessions = ConfigurationKey(
        "Worker:MaxSessions", "5000", .integer(1...100_000),
        "Sessions one worker holds at most; it stops consuming jobs when full. One worker holds 10,000 idle sessions at 3.9 KB each with a ping p99 under 4 ms (`bench session`), so the default leaves room for a neighbour's sessions after a failover. The worker raises its open-file limit to what this needs (1.5 per session plus 256) and, when the hard limit is lower, logs an error and holds only what fits.")
    public static let prefetch = ConfigurationKey(
        "Worker:Prefetch", "256", .integer(1...65_535),
        "AMQP prefetch of the job consumer: jobs one worker works on at once (each holds its delivery while its endpoint connects, so this bounds how many endpoints a worker opens at once). A frozen worker's deliveries return to the queue within two AMQP heartbeats, and one that cannot reach Redis gives them back.")
    public static let connectTimeout = ConfigurationKey(
        "Worker:ConnectTimeoutSeconds", "15", .integer(1...300),
        "Bound on opening a session, all of it: TCP, TLS, the WebSocket handshake and Xiaozhi's first message. The lease is renewed while it connects.")
    public static let stableAfter = ConfigurationKey(
        "Worker:StableAfterSeconds", "30", .integer(1...3600),
        "A session that ends sooner after opening counts as a failed attempt of the job that opened it (retry ladder, staying on its last step; a second such close with 1008 in a row dead-letters and parks); a later loss is recovered at once.")
    public static let pingInterval = ConfigurationKey(
        "Worker:PingIntervalSeconds", "25", .integer(1...3600),
        "Seconds between two WebSocket pings on a session.")
    public static let idleTimeout = ConfigurationKey(
        "Worker:IdleTimeoutSeconds", "75", .integer(2...86_400),
        "A session silent for this long (no frame, no pong) is closed and recovered; more than PingIntervalSeconds.")
    public static let retryMaxAttempts = ConfigurationKey(
        "Retry:MaxAttempts", "6", .integer(1...100),
        "Attempts of a job (the first included) before a transient failure is dead-lettered.")
    public static let retryDelays = ConfigurationKey(
        "Retry:DelaysSeconds", "5,15,45,135,300", .integerList(1...86_400, maxCount: 20),
        "The retry delay ladder; one TTL queue per step. Attempt n waits step min(n-1, last).")
    public static let queuePrefix = ConfigurationKey(
        "Queue:Prefix", "mcp.recovery", .text(.amqpName),
        "Prefix of every exchange and queue name.")
    public static let deliveryLimit = ConfigurationKey(
        "Queue:DeliveryLimit", "5", .integer(0...1000),
        "x-delivery-limit of the jobs queue: redeliveries (after worker crashes) before the broker dead-letters a job.")
    public static let confirmTimeout = ConfigurationKey(
        "Queue:ConfirmTimeoutSeconds", "10", .integer(1...300),
        "How long a publish waits for the broker's confirm (a memory or disk alarm blocks publishers); past it the publish is reported unconfirmed: the scheduler publishes the job again next cycle, a worker leaves the delivery with the broker.")
    public static let metricsPort = ConfigurationKey(
        "Metrics:Port", "9464", .integer(0...65_535),
        "Port of /metrics, /healthz and /readyz; 0 disables the listener.")
    public static let metricsHost = ConfigurationKey(
        "Metrics:Host", "0.0.0.0", .text(.host),
        "Address the metrics listener binds.")
    public static let logFormat = ConfigurationKey(
        "Log:Format", "text", .choice(["text", "json"]),
        "Log line format.")
    public static let logLevel = ConfigurationKey(
        "Log:Level", "info", .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]),
        "Lowest level logged.")
    public static let tlsCaFile = ConfigurationKey(
        "Tls:CaFile", "", .text(.optionalPath),
        "Extra CA bundle (PEM) trusted besides the system store; certificates are always verified.")
    public static let mcpCallTimeout = ConfigurationKey(
        "Mcp:CallTimeoutSeconds", "60", .integer(1...3600),
        "Bound on one tools/call forwarded to an upstream MCP service.")
    public static let mcpMaxMessageBytes = ConfigurationKey(
        "Mcp:MaxMessageBytes", "1048576", .integer(1024...67_108_864),
        "Largest WebSocket message to or from Xiaozhi (it closes with 1009 past 1 MiB). A larger incoming message closes the session; a larger answer (a tool result) is replaced by a JSON-RPC error naming its size, and the session stays up.")
    public static let mcpMaxConcurrentCalls = ConfigurationKey(
        "Mcp:MaxConcurrentCalls", "8", .integer(1...1000),
        "Tool calls one session runs at once; a call past it is answered with a JSON-RPC error at once.")
    public static let mcpMaxResponseBytes = ConfigurationKey(
        "Mcp:MaxResponseBytes", "4194304", .integer(65_536...1_073_741_824),
        "Bytes of one upstream answer: a JSON body, a POST's event stream, or what an sse service's event stream sends between two answers. Past it the call fails with a JSON-RPC error; answers are read no faster than they are parsed, so this bounds what one answer holds.")
    public static let mcpMaxSseLineBytes = ConfigurationKey(
        "Mcp:MaxSseLineBytes", "4194304", .integer(1024...1_073_741_824),
        "Longest line of an upstream event stream; a longer one ends the stream and fails its calls.")
    public static let mcpMaxSseEventBytes = ConfigurationKey(
        "Mcp:MaxSseEventBytes", "4194304", .integer(1024...1_073_741_824),
        "Largest data of one upstream event-stream event; a larger one ends the stream and fails its calls.")
    public static let mcpUpstreamIdleTimeout = ConfigurationKey(
        "Mcp:UpstreamIdleTimeoutSeconds", "60", .integer(1...86_400),
        "An upstream answer or event stream that sends no byte for this long (once its response head arrived) is ended; its calls fail, and an sse service's stream is opened again by the next call.")
    public static let mcpMaxUpstreamConnections = ConfigurationKey(
        "Mcp:MaxUpstreamConnections", "1024", .integer(1...100_000),
        "Upstream MCP sessions (one per service and owner) a worker keeps at most; past it the least recently used idle one is closed. Sessions of services no held endpoint binds are closed at once.")
    public static let redisSentinels = ConfigurationKey(
        "Redis:Sentinels", "", .text(.serverList),
        "Redis Sentinels (host:port, comma-separated) asked for the master of Redis:MasterName; the pool follows their failovers. Empty: REDIS_URL's host is the server. With sentinels, REDIS_URL still gives the password and database.")
    public static let redisMasterName = ConfigurationKey(
        "Redis:MasterName", "mymaster", .text(.amqpName),
        "The master's name in the sentinels' configuration (used when Redis:Sentinels is set).")
    public static let redisSentinelPassword = ConfigurationKey(
        "Redis:SentinelPassword", "", .text(.password),
        "The password the sentinels ask for (their requirepass), offered before the question. Empty: a sentinel that asks is offered REDIS_URL's credentials. Set it through the environment (Redis__SentinelPassword), not a committed file; never printed or logged.")
    public static let redisAcquireReplicas = ConfigurationKey(
        "Redis:AcquireReplicas", "0", .integer(0...16),
        "Replicas that must acknowledge a lease (WAIT, 250 ms) before its session opens; one not acknowledged is released and the attempt retried. 0 skips it. With Sentinel and two or more replicas, 1 keeps a failover from losing the lease of an open session; while fewer replicas answer, no session opens, so keep it below the replicas a failover leaves.")
    public static let consolePort = ConfigurationKey(
        "Console:Port", "0", .integer(0...65_535),
        "Port of the web console served by `scheduler run` and `scheduler console`; 0 turns it off. Needs Console:AdminToken or Console:ViewerToken.")
    public static let consoleHost = ConfigurationKey(
        "Console:Host", "127.0.0.1", .text(.host),
        "Address the console binds; loopback by default (put a TLS proxy in front to reach it from elsewhere).")
    public static let consoleAdminToken = ConfigurationKey(
        "Console:AdminToken", "", .text(.secret),
        "Token that signs in to the console with every right (retry and purge dead letters). Set it through the environment (Console__AdminToken), not a committed file; never printed or logged.")
    public static let consoleViewerToken = ConfigurationKey(
        "Console:ViewerToken", "", .text(.secret),
        "Token that signs in to the console read-only: every page, no retry or purge.")
    public static let databaseURL = ConfigurationKey(
        "DATABASE_URL", "", .url(schemes: ["postgres", "postgresql"]),
        "Postgres connection URL (postgres://user:pass@host:port/db?sslmode=...); several servers (host1:5432,host2:5432) with target_session_attrs=read-write follow a failover.")
    public static let redisURL = ConfigurationKey(
        "REDIS_URL", "", .url(schemes: ["redis", "rediss"]),
        "Redis connection URL (redis://[:password@]host:port[/db]).")
    public static let amqpURL = ConfigurationKey(
        "AMQP_URL", "", .url(schemes: ["amqp", "amqps"]),
        "RabbitMQ connection URL (amqp://user:pass@host:port/vhost, amqps:// too); several nodes of a cluster (host1:5672,host2:5672,host3:5672): each connection fails over to the next.")

    /// Every key, in print order.
    public static let all: [ConfigurationKey] = [
        checkInterval, heartbeatTimeout, reconnectCooldown, tablePrefix,
        leaseTtl, heartbeatInterval, parkPeriod, pendingTtl, shutdownGrace, leaderLease, fullReadEvery,
        instanceId, maxSessions, prefetch, connectTimeout, stableAfter, pingInterval, idleTimeout,
        retryMaxAttempts, retryDelays, queuePrefix, deliveryLimit, confirmTimeout,
        metricsPort, metricsHost, logFormat, logLevel, tlsCaFile, mcpCallTimeout,
        mcpMaxMessageBytes, mcpMaxConcurrentCalls, mcpMaxResponseBytes, mcpMaxSseLineBytes, mcpMaxSseEventBytes,
        mcpUpstreamIdleTimeout, mcpMaxUpstreamConnections, redisSentinels, redisMasterName, redisSentinelPassword,
        redisAcquireReplicas, consolePort, consoleHost, consoleAdminToken, consoleViewerToken,
        databaseURL, redisURL, amqpURL,
    ]

    private static let byLowercasedName: [String: ConfigurationKey] = {
        var map: [String: ConfigurationKey] = [:]
        for key in all { map[key.name.lowercased()] = key }
        return map
    }()

    /// The key named `name` in either form (`A:B` or `A__B`), matched case-insensitively.
    public static func named(_ name: String) -> ConfigurationKey? {
        byLowercasedName[name.replacingOccurrences(of: "__", with: ":").lowercased()]
    }
}

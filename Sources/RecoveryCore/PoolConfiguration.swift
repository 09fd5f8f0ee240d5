import ClientSupport
import Foundation

/// Log line format.
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    case text
    case json
}

/// A connection URL from `DATABASE_URL`, `REDIS_URL` or `AMQP_URL`; its authority may list several
/// servers (`h1:5672,h2:5672`), as the clients accept.
public struct ConnectionURL: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The URL as given, with its password: pass it to the client library, never to a log.
    public let raw: String
    public let scheme: String
    public let servers: [ServerAddress]

    static let defaultPorts = ["postgres": 5432, "postgresql": 5432, "redis": 6379, "amqp": 5672, "amqps": 5671]

    /// The URL with its password masked: safe for logs and errors.
    public var redacted: String { Redaction.connectionURL(raw) }
    public var description: String { redacted }
}

/// The validated configuration of a scheduler or worker process (see `ConfigurationKeys` for each key).
public struct PoolConfiguration: Sendable, Equatable {
    /// `ConnectionMonitor:CheckIntervalSeconds`.
    public let checkIntervalSeconds: Int
    /// `ConnectionMonitor:HeartbeatTimeoutSeconds`.
    public let heartbeatTimeoutSeconds: Int
    /// `ConnectionMonitor:ReconnectCooldownSeconds`.
    public let reconnectCooldownSeconds: Int
    /// `Database:TablePrefix`.
    public let tablePrefix: String
    /// `Recovery:LeaseTtlSeconds`.
    public let leaseTtlSeconds: Int
    /// `Recovery:HeartbeatIntervalSeconds`.
    public let heartbeatIntervalSeconds: Int
    /// `Recovery:ParkSeconds`.
    public let parkSeconds: Int
    /// `Recovery:PendingTtlSeconds`.
    public let pendingTtlSeconds: Int
    /// `Recovery:ShutdownGraceSeconds`.
    public let shutdownGraceSeconds: Int
    /// `Scheduler:LeaderLeaseSeconds`.
    public let leaderLeaseSeconds: Int
    /// `Scheduler:FullReadEveryCycles`.
    public let fullReadEveryCycles: Int
    /// `Worker:InstanceId`; nil means generate one (`WorkerRecord.makeInstanceId`).
    public let instanceId: String?
    /// `Worker:MaxSessions`.
    public var maxSessions: Int
    /// `Worker:Prefetch`.
    public let prefetch: Int
    /// `Worker:ConnectTimeoutSeconds`.
    public let connectTimeoutSeconds: Int
    /// `Worker:StableAfterSeconds`: how long a session must live for its loss not to count as a failed attempt.
    public let stableAfterSeconds: Int
    /// `Worker:PingIntervalSeconds`.
    public let pingIntervalSeconds: Int
    /// `Worker:IdleTimeoutSeconds`.
    public let idleTimeoutSeconds: Int
    /// `Retry:MaxAttempts`.
    public let retryMaxAttempts: Int
    /// `Retry:DelaysSeconds`.
    public let retryDelaysSeconds: [Int]
    /// `Queue:Prefix`.
    public let queuePrefix: String
    /// `Queue:DeliveryLimit`.
    public let deliveryLimit: Int
    /// `Queue:ConfirmTimeoutSeconds`.
    public let confirmTimeoutSeconds: Int
    /// `Metrics:Port`.
    public let metricsPort: Int
    /// `Metrics:Host`.
    public let metricsHost: String
    /// `Log:Format`.
    public let logFormat: LogFormat
    /// `Log:Level`.
    public let logLevel: String
    /// `Tls:CaFile`; nil means the system store only.
    public let tlsCaFile: String?
    /// `Mcp:CallTimeoutSeconds`.
    public let mcpCallTimeoutSeconds: Int
    /// `Mcp:MaxMessageBytes`.
    public let mcpMaxMessageBytes: Int
    /// `Mcp:MaxConcurrentCalls`.
    public let mcpMaxConcurrentCalls: Int
    /// `Mcp:MaxResponseBytes`.
    public let mcpMaxResponseBytes: Int
    /// `Mcp:MaxSseLineBytes`.
    public let mcpMaxSseLineBytes: Int
    /// `Mcp:MaxSseEventBytes`.
    public let mcpMaxSseEventBytes: Int
    /// `Mcp:UpstreamIdleTimeoutSeconds`.
    public let mcpUpstreamIdleTimeoutSeconds: Int
    /// `Mcp:MaxUpstreamConnections`.
    public let mcpMaxUpstreamConnections: Int
    /// `DATABASE_URL`.
    /// `Redis:Sentinels`: empty when Redis is reached at `REDIS_URL`'s host.
    public let redisSentinels: [ServerAddress]
    /// `Redis:MasterName`.
    public let redisMasterName: String
    /// `Redis:SentinelPassword`; nil when unset.
    public let redisSentinelPassword: String?
    /// `Redis:AcquireReplicas`.
    public let redisAcquireReplicas: Int
    /// `Console:Port`; 0 when the console is off.
    public let consolePort: Int
    /// `Console:Host`.
    public let consoleHost: String
    /// `Console:AdminToken`; nil when unset.
    public let consoleAdminToken: String?
    /// `Console:ViewerToken`; nil when unset.
    public let consoleViewerToken: String?
    public let databaseURL: ConnectionURL?
    /// `REDIS_URL`.
    public let redisURL: ConnectionURL?
    /// `AMQP_URL`.
    public let amqpURL: ConnectionURL?

    /// Each key's raw value and source, for `--print-config`.
    public let resolved: [String: ResolvedValue]

    /// A key's winning raw value and where it came from.
    public struct ResolvedValue: Sendable, Equatable {
        public var value: String
        public var source: ConfigurationSource
    }

    /// The built-in defaults (no file, no environment, no options).
    public static func defaults() -> PoolConfiguration {
        // The built-in defaults are valid by construction; a test checks it.
        (try? ConfigurationLoader.load(fileContents: nil, environment: [:], overrides: []))!
    }

    /// The built-in defaults with `--set`-style overrides (`"Worker:Prefetch=2"`), handy in tests.
    public static func defaults(overriding overrides: [String]) throws(ConfigurationError) -> PoolConfiguration {
        try ConfigurationLoader.load(fileContents: nil, environment: [:], overrides: overrides)
    }

    /// Validates every layered value; the first invalid key (in `ConfigurationKeys.all` order) is the error.
    public init(layered: ConfigurationLoader.Layered) throws(ConfigurationError) {
        var resolved: [String: ResolvedValue] = [:]
        for key in ConfigurationKeys.all {
            let entry = layered[key.name] ?? (key.defaultValue, .builtInDefault)
            resolved[key.name] = ResolvedValue(value: entry.value, source: entry.source)
        }
        self.resolved = resolved
        let reader = ValueReader(resolved: resolved)

        checkIntervalSeconds = try reader.int(ConfigurationKeys.checkInterval)
        heartbeatTimeoutSeconds = try reader.int(ConfigurationKeys.heartbeatTimeout)
        reconnectCooldownSeconds = try reader.int(ConfigurationKeys.reconnectCooldown)
        tablePrefix = try reader.text(ConfigurationKeys.tablePrefix)
        leaseTtlSeconds = try reader.int(ConfigurationKeys.leaseTtl)
        heartbeatIntervalSeconds = try reader.int(ConfigurationKeys.heartbeatInterval)
        parkSeconds = try reader.int(ConfigurationKeys.parkPeriod)
        pendingTtlSeconds = try reader.int(ConfigurationKeys.pendingTtl)
        shutdownGraceSeconds = try reader.int(ConfigurationKeys.shutdownGrace)
        leaderLeaseSeconds = try reader.int(ConfigurationKeys.leaderLease)
        fullReadEveryCycles = try reader.int(ConfigurationKeys.fullReadEvery)
        let instance = try reader.text(ConfigurationKeys.instanceId)
        instanceId = instance.isEmpty ? nil : instance
        maxSessions = try reader.int(ConfigurationKeys.maxSessions)
        prefetch = try reader.int(ConfigurationKeys.prefetch)
        connectTimeoutSeconds = try reader.int(ConfigurationKeys.connectTimeout)
        stableAfterSeconds = try reader.int(ConfigurationKeys.stableAfter)
        pingIntervalSeconds = try reader.int(ConfigurationKeys.pingInterval)
        idleTimeoutSeconds = try reader.int(ConfigurationKeys.idleTimeout)
        retryMaxAttempts = try reader.int(ConfigurationKeys.retryMaxAttempts)
        retryDelaysSeconds = try reader.intList(ConfigurationKeys.retryDelays)
        queuePrefix = try reader.text(ConfigurationKeys.queuePrefix)
        deliveryLimit = try reader.int(ConfigurationKeys.deliveryLimit)
        confirmTimeoutSeconds = try reader.int(ConfigurationKeys.confirmTimeout)
        metricsPort = try reader.int(ConfigurationKeys.metricsPort)
        metricsHost = try reader.text(ConfigurationKeys.metricsHost)
        logFormat = LogFormat(rawValue: try reader.choice(ConfigurationKeys.logFormat))!
        logLevel = try reader.choice(ConfigurationKeys.logLevel)
        let caFile = try reader.text(ConfigurationKeys.tlsCaFile)
        tlsCaFile = caFile.isEmpty ? nil : caFile
        mcpCallTimeoutSeconds = try reader.int(ConfigurationKeys.mcpCallTimeout)
        mcpMaxMessageBytes = try reader.int(ConfigurationKeys.mcpMaxMessageBytes)
        mcpMaxConcurrentCalls = try reader.int(ConfigurationKeys.mcpMaxConcurrentCalls)
        mcpMaxResponseBytes = try reader.int(ConfigurationKeys.mcpMaxResponseBytes)
        mcpMaxSseLineBytes = try reader.int(ConfigurationKeys.mcpMaxSseLineBytes)
        mcpMaxSseEventBytes = try reader.int(ConfigurationKeys.mcpMaxSseEventBytes)
        mcpUpstreamIdleTimeoutSeconds = try reader.int(ConfigurationKeys.mcpUpstreamIdleTimeout)
        mcpMaxUpstreamConnections = try reader.int(ConfigurationKeys.mcpMaxUpstreamConnections)
        redisSentinels = try reader.servers(ConfigurationKeys.redisSentinels)
        redisMasterName = try reader.text(ConfigurationKeys.redisMasterName)
        let sentinelPassword = try reader.text(ConfigurationKeys.redisSentinelPassword)
        redisSentinelPassword = sentinelPassword.isEmpty ? nil : sentinelPassword
        redisAcquireReplicas = try reader.int(ConfigurationKeys.redisAcquireReplicas)
        consolePort = try reader.int(ConfigurationKeys.consolePort)
        consoleHost = try reader.text(ConfigurationKeys.consoleHost)
        let adminToken = try reader.text(ConfigurationKeys.consoleAdminToken)
        consoleAdminToken = adminToken.isEmpty ? nil : adminToken
        let viewerToken = try reader.text(ConfigurationKeys.consoleViewerToken)
        consoleViewerToken = viewerToken.isEmpty ? nil : viewerToken
        databaseURL = try reader.url(ConfigurationKeys.databaseURL)
        redisURL = try reader.url(ConfigurationKeys.redisURL)
        amqpURL = try reader.url(ConfigurationKeys.amqpURL)

        // Rules between keys.
        if consolePort != 0, consoleAdminToken == nil, consoleViewerToken == nil {
            throw reader.invalid(
                ConfigurationKeys.consoleAdminToken,
                expected: "a token (16 to 512 printable characters) while \(ConfigurationKeys.consolePort.name) is \(consolePort): the console never runs without sign-in")
        }
        if let adminToken = consoleAdminToken, adminToken == consoleViewerToken {
            throw reader.invalid(ConfigurationKeys.consoleViewerToken, expected: "a token other than \(ConfigurationKeys.consoleAdminToken.name)'s")
        }
        if heartbeatIntervalSeconds * 2 > heartbeatTimeoutSeconds {
            throw reader.invalid(
                ConfigurationKeys.heartbeatInterval,
                expected: "at most half of \(ConfigurationKeys.heartbeatTimeout.name) (\(heartbeatTimeoutSeconds)), so heartbeats stay fresh")
        }
        let longestDelay = retryDelaysSeconds.max() ?? 0
        // An attempt lasts up to twice the connect timeout: the open, then the hold of an abandoned handshake.
        if pendingTtlSeconds <= longestDelay + 2 * connectTimeoutSeconds {
            throw reader.invalid(
                ConfigurationKeys.pendingTtl,
                expected: "more than the longest \(ConfigurationKeys.retryDelays.name) step plus twice "
                    + "\(ConfigurationKeys.connectTimeout.name) (\(longestDelay + 2 * connectTimeoutSeconds)), so a retrying job stays pending")
        }
        if idleTimeoutSeconds <= pingIntervalSeconds {
            throw reader.invalid(
                ConfigurationKeys.idleTimeout,
                expected: "more than \(ConfigurationKeys.pingInterval.name) (\(pingIntervalSeconds))")
        }
    }

    /// The connection URL a command needs, or an error naming its variable.
    public func require(_ key: KeyPath<PoolConfiguration, ConnectionURL?>) throws(ConfigurationError) -> ConnectionURL {
        if let url = self[keyPath: key] { return url }
        let name: String
        switch key {
        case \PoolConfiguration.databaseURL: name = ConfigurationKeys.databaseURL.name
        case \PoolConfiguration.redisURL: name = ConfigurationKeys.redisURL.name
        default: name = ConfigurationKeys.amqpURL.name
        }
        throw .missingConnection(key: name)
    }

    /// The planner's timing rules.
    public var reconcilePolicy: ReconcilePolicy {
        ReconcilePolicy(
            heartbeatTimeout: TimeInterval(heartbeatTimeoutSeconds),
            reconnectCooldown: TimeInterval(reconnectCooldownSeconds),
            parkPeriod: TimeInterval(parkSeconds))
    }

    /// The lease's clock rules.
    public var leaseTiming: LeaseTiming { LeaseTiming(ttlSeconds: leaseTtlSeconds) }

    /// What follows a held session's loss.
    public var sessionLossRule: SessionLossRule {
        SessionLossRule(stableAfter: .seconds(stableAfterSeconds), retryPolicy: retryPolicy)
    }

    /// The retry ladder and attempt limit.
    public var retryPolicy: RetryPolicy {
        RetryPolicy(delays: retryDelaysSeconds, maxAttempts: retryMaxAttempts)
    }

    /// The RabbitMQ topology under `Queue:Prefix` (valid by construction: the prefix was validated).
    public var topology: Topology {
        (try? Topology(prefix: queuePrefix, retryDelays: retryDelaysSeconds, deliveryLimit: deliveryLimit))!
    }
}

/// Parses raw values into typed ones, naming the key on failure.
private struct ValueReader {
    let resolved: [String: PoolConfiguration.ResolvedValue]

    func raw(_ key: ConfigurationKey) -> PoolConfiguration.ResolvedValue {
        resolved[key.name]!
    }

    func invalid(_ key: ConfigurationKey, expected: String? = nil) -> ConfigurationError {
        let entry = raw(key)
        // A value that failed validation may be mistyped anywhere (or be libpq's keyword form): hide its
        // whole userinfo and every secret keyword, not just a URL's password.
        let shown = key.isSecret ? "(hidden)"
            : key.isSecretBearing ? Redaction.mistypedConnectionSetting(entry.value) : StrictFields.excerpt(entry.value)
        return .invalidValue(key: key.name, value: shown, source: entry.source, expected: expected ?? key.expected)
    }

    func int(_ key: ConfigurationKey) throws(ConfigurationError) -> Int {
        guard case .integer(let range) = key.kind,
              let value = Int(raw(key).value.trimmingCharacters(in: .whitespaces)), range.contains(value)
        else { throw invalid(key) }
        return value
    }

    func intList(_ key: ConfigurationKey) throws(ConfigurationError) -> [Int] {
        guard case .integerList(let range, let maxCount) = key.kind else { throw invalid(key) }
        let parts = raw(key).value.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Int] = []
        for part in parts {
            guard let value = Int(part), range.contains(value) else { throw invalid(key) }
            if let last = values.last, value <= last { throw invalid(key) }
            values.append(value)
        }
        guard (1...maxCount).contains(values.count) else { throw invalid(key) }
        return values
    }

    func choice(_ key: ConfigurationKey) throws(ConfigurationError) -> String {
        guard case .choice(let words) = key.kind else { throw invalid(key) }
        let value = raw(key).value.trimmingCharacters(in: .whitespaces).lowercased()
        guard words.contains(value) else { throw invalid(key) }
        return value
    }

    func text(_ key: ConfigurationKey) throws(ConfigurationError) -> String {
        guard case .text(let rule) = key.kind else { throw invalid(key) }
        let value = raw(key).value
        let valid: Bool
        switch rule {
        case .identifierPrefix:
            valid = value.utf8.count <= 42
                && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                && !(value.first?.isNumber ?? false)
        case .amqpName:
            valid = Topology.isValidName(value, extra: [])
        case .instanceId:
            valid = value.isEmpty || Topology.isValidName(value, extra: [":"])
        case .host:
            valid = !value.isEmpty && value.utf8.count <= 253
                && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" ) }
        case .optionalPath:
            valid = !value.utf8.contains(0) && value.utf8.count <= 4096
        case .secret:
            valid = value.isEmpty || ((16...512).contains(value.utf8.count) && value.utf8.allSatisfy { (0x21...0x7E).contains($0) })
        case .password:
            valid = value.utf8.count <= 512 && value.utf8.allSatisfy { (0x21...0x7E).contains($0) }
        case .serverList:
            valid = value.isEmpty || (try? ServerAddress.parseList(Substring(value), defaultPort: 0))?.allSatisfy { $0.port != 0 } == true
            // A port is required: a sentinel has no default one worth guessing.
        }
        guard valid else { throw invalid(key) }
        return value
    }

    /// A `.serverList` key's servers (none when empty).
    func servers(_ key: ConfigurationKey) throws(ConfigurationError) -> [ServerAddress] {
        let value = try text(key)
        guard !value.isEmpty else { return [] }
        guard let servers = try? ServerAddress.parseList(Substring(value), defaultPort: 0) else { throw invalid(key) }
        return servers
    }

    func url(_ key: ConfigurationKey) throws(ConfigurationError) -> ConnectionURL? {
        guard case .url(let schemes) = key.kind else { throw invalid(key) }
        let value = raw(key).value.trimmingCharacters(in: .whitespaces)
        if value.isEmpty { return nil }
        guard let schemeEnd = value.range(of: "://"), schemes.contains(value[..<schemeEnd.lowerBound].lowercased()) else {
            throw invalid(key)
        }
        var authority = value[schemeEnd.upperBound...]
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let scheme = value[..<schemeEnd.lowerBound].lowercased()
        guard let servers = try? ServerAddress.parseList(authority, defaultPort: ConnectionURL.defaultPorts[scheme] ?? 0) else {
            throw invalid(key)
        }
        return ConnectionURL(raw: value, scheme: scheme, servers: servers)
    }
}

import AMQPClient
import Foundation
import Logging
import PostgresClient
import RecoveryCore
import RedisClient

/// Opening the pool's server connections from the configuration's URLs. Long-running processes wait
/// for a server that is down (retrying with backoff, saying so in the log); one-shot commands fail at
/// once with one clear line.
public struct PoolConnections: Sendable {
    public let configuration: PoolConfiguration
    public let logger: Logger
    /// Whether to keep retrying a server that does not answer.
    public let waitForServers: Bool

    public init(configuration: PoolConfiguration, logger: Logger, waitForServers: Bool) {
        self.configuration = configuration
        self.logger = logger
        self.waitForServers = waitForServers
    }

    /// A connection to Redis whose every command fails after `commandTimeout` (10 s when nil).
    public func redis(commandTimeout: Duration? = nil) async throws -> RedisClient {
        let url = try configuration.require(\.redisURL)
        var settings = try RedisConfiguration(url: url.raw)
        if let commandTimeout { settings.commandTimeout = commandTimeout }
        if !configuration.redisSentinels.isEmpty {
            settings.sentinel = RedisSentinel(
                servers: configuration.redisSentinels, masterName: configuration.redisMasterName, password: configuration.redisSentinelPassword)
        }
        return try await retrying("Redis at \(settings.sentinel == nil ? url.redacted : settings.serverDescription)") { [settings] in try await RedisClient.connect(configuration: settings) }
    }

    public func postgres() async throws -> PostgresClient {
        let url = try configuration.require(\.databaseURL)
        return try await retrying("Postgres at \(url.redacted)") { try await PostgresClient.connect(url: url.raw, statementTimeout: .seconds(30)) }
    }

    /// A connection to the broker; `heartbeatSeconds` applies when the URL names no `heartbeat`.
    public func amqp(name: String, heartbeatSeconds: Int? = nil) async throws -> AMQPConnection {
        let url = try configuration.require(\.amqpURL)
        var amqpConfiguration = try AMQPConfiguration(urlString: url.raw, connectionName: name)
        if let heartbeatSeconds, (try? AMQPURL(parsing: url.raw))?.heartbeatSeconds == nil {
            amqpConfiguration.heartbeatSeconds = heartbeatSeconds
        }
        amqpConfiguration.confirmTimeout = .seconds(configuration.confirmTimeoutSeconds)
        if let caFile = configuration.tlsCaFile, amqpConfiguration.caCertificateFile == nil {
            amqpConfiguration.caCertificateFile = caFile
        }
        let settings = amqpConfiguration
        let amqpLogger = Logger(label: "amqp.\(name)")
        return try await retrying("RabbitMQ at \(url.redacted)") {
            try await AMQPConnection.connect(configuration: settings, logger: amqpLogger)
        }
    }

    /// The endpoint directory over Postgres.
    public func directory() async throws -> PostgresEndpointDirectory {
        let schema = try EndpointSchema(prefix: configuration.tablePrefix)
        return PostgresEndpointDirectory(client: try await postgres(), schema: schema)
    }

    func retrying<T>(_ what: String, _ connect: () async throws -> T) async throws -> T {
        var backoff = Backoff()
        var attempt = 0
        while true {
            do {
                let value = try await connect()
                if attempt > 0 { logger.notice("connected to \(what) after \(attempt) failed attempts") }
                return value
            } catch {
                guard waitForServers, !Task.isCancelled else { throw error }
                attempt += 1
                let delay = backoff.next()
                logger.warning("cannot connect to \(what); retrying in \(delay)", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
            }
        }
    }
}

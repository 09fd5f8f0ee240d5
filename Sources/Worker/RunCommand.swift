import ArgumentParser
import Foundation
import Logging
import MCP
import PoolCommand
import Recovery
import RecoveryCore
import ServiceLifecycle
import Transport
import WebSocket

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Consume jobs and host sessions, up to --max-sessions.")

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("max-sessions"), help: "Sessions this worker holds at most (Worker:MaxSessions).")
    var maxSessions: Int?

    @Option(name: .customLong("instance-id"), help: "This worker's instance id (Worker:InstanceId); default host:pid:random.")
    var instanceId: String?

    /// Redis and Postgres connections for job handling, besides the ones for lease renewal and the rest.
    static let jobConnectionCount = 2

    func run() async throws {
        var options = common
        if let maxSessions { options.overrides.append("Worker:MaxSessions=\(maxSessions)") }
        if let instanceId { options.overrides.append("Worker:InstanceId=\(instanceId)") }
        var (configuration, logger) = try options.bootstrap(label: "worker")
        let needed = DescriptorBudget.needed(maxSessions: configuration.maxSessions)
        if let limit = DescriptorLimit.raise(toAtLeast: needed), limit < needed {
            // Past the limit every connect would fail with EMFILE; a smaller capacity, reported in the
            // worker record, lets the scheduler's capacity signal show the shortfall instead.
            let fitting = DescriptorBudget.sessions(fitting: limit)
            logger.error(
                "open-file limit \(limit) is below the \(needed) that Worker:MaxSessions=\(configuration.maxSessions) needs: holding at most \(fitting) sessions; raise the limit (ulimit -n, LimitNOFILE=, docker --ulimit nofile=) or lower Worker:MaxSessions")
            configuration.maxSessions = fitting
        }
        let instance = configuration.instanceId.flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"

        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: true)
        let redis = try await connections.redis(commandTimeout: configuration.leaseTiming.redisCommandTimeout)
        let directory = try await connections.directory()
        // Jobs get connections of their own, used in turn, so that concurrent jobs do not queue behind one
        // connection and lease renewals never wait behind jobs.
        var jobStores: [PoolStores] = []
        var jobDirectories: [any EndpointDirectory] = []
        for _ in 0..<Self.jobConnectionCount {
            jobStores.append(RedisPoolState(
                redis: try await connections.redis(commandTimeout: configuration.leaseTiming.redisCommandTimeout),
                acquireReplicas: configuration.redisAcquireReplicas).stores)
            jobDirectories.append(try await connections.directory())
        }
        let publisher = try await connections.amqp(name: "worker-publish")
        // Its deliveries return to the queue within about two heartbeats of this worker freezing.
        let consumer = try await connections.amqp(name: "worker-consume", heartbeatSeconds: configuration.leaseTiming.brokerHeartbeatSeconds)
        let metrics = PoolMetrics()
        let host = try SessionHost(threads: 2)
        let bridge = UpstreamBridge(
            options: .init(
                callTimeout: .seconds(configuration.mcpCallTimeoutSeconds),
                maximumResponseBytes: configuration.mcpMaxResponseBytes,
                maximumEventStreamLineBytes: configuration.mcpMaxSseLineBytes,
                maximumEventStreamEventBytes: configuration.mcpMaxSseEventBytes,
                idleTimeout: .seconds(configuration.mcpUpstreamIdleTimeoutSeconds),
                maximumConnections: configuration.mcpMaxUpstreamConnections,
                tls: TLSConfiguration(extraCAFile: configuration.tlsCaFile)),
            logger: Logger(label: "mcp.bridge"))

        let process = PoolProcess(configuration: configuration, logger: logger)
        let probes = try process.startProbes(metrics: metrics, redis: redis, postgres: directory.client, amqp: publisher)

        var sessionOptions = SessionOptions(
            tls: TLSConfiguration(extraCAFile: configuration.tlsCaFile),
            timeouts: ConnectTimeouts(connect: .seconds(configuration.connectTimeoutSeconds), tls: .seconds(configuration.connectTimeoutSeconds)),
            handshakeTimeout: .seconds(configuration.connectTimeoutSeconds))
        sessionOptions.connection.pingInterval = .seconds(configuration.pingIntervalSeconds)
        sessionOptions.connection.silenceTimeout = .seconds(configuration.idleTimeoutSeconds)
        // Xiaozhi's messages are bounded like ours (its own limit is 1 MiB); a larger one closes with 1009.
        sessionOptions.connection.maxMessageSize = configuration.mcpMaxMessageBytes
        sessionOptions.connection.maxFrameSize = configuration.mcpMaxMessageBytes

        let runtime = WorkerRuntime(
            configuration: configuration, instanceId: instance,
            dependencies: .init(
                // Renewals re-take lapsed leases too: the same replica acknowledgement as a job's take.
                store: RedisPoolState(redis: redis, acquireReplicas: configuration.redisAcquireReplicas).stores, directory: directory, jobStores: jobStores, jobDirectories: jobDirectories,
                publisher: JobBus(connection: publisher, topology: configuration.topology), consumer: consumer, host: host, bridge: bridge),
            sessionOptions: sessionOptions, metrics: metrics, logger: logger, metricsPort: probes.port)
        let resources: [any Service] = [
            ReleasedAtShutdown {
                await publisher.close()
                await consumer.close()
            },
            probes.service,
            ReleasedAtShutdown { host.shutdown() },
        ]
        // Five seconds past the grace: the hand-off has the grace itself, and the rest must still stop.
        try await process.run(resources + (try await runtime.prepareServices()), extraGrace: .seconds(5))
    }
}

import AMQPClient
import Logging
import PostgresClient
import Recovery
import RecoveryCore
import RedisClient
import ServiceLifecycle

/// What both `run` commands wire the same way: the health and metrics server over the process's
/// connections, and one ordered `ServiceGroup`, started first to last and stopped last to first on SIGTERM
/// or SIGINT. The resources (connections, the probe server, the session host) go first, so that each is
/// released only once everything started after it has stopped.
public struct PoolProcess: Sendable {
    public let configuration: PoolConfiguration
    public let logger: Logger

    public init(configuration: PoolConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Starts the probe server (readiness over Redis, Postgres and the broker; the metrics) on the
    /// configured port, or the next free one; returns the port (nil when disabled) and the service that
    /// stops it at its turn.
    public func startProbes(metrics: PoolMetrics, redis: RedisClient, postgres: PostgresClient, amqp: AMQPConnection) throws -> (port: Int?, service: any Service) {
        let probes = ProbeServer(
            routes: ProbeRoutes.make(metrics: metrics, redis: redis, postgres: postgres, amqp: amqp, queue: configuration.topology.jobsQueue),
            logger: logger)
        let port = try probes.startConfigured(configuration)
        return (port, ReleasedAtShutdown { probes.stop() })
    }

    /// Runs `services` until a signal's graceful shutdown ends them, within `Recovery:ShutdownGraceSeconds`
    /// plus `extraGrace`; past that, what is left is cancelled.
    public func run(_ services: [any Service], extraGrace: Duration = .zero) async throws {
        var group = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds) + extraGrace
        try await ServiceGroup(configuration: group).run()
    }
}

/// A resource whose only part in the run is to be released at its turn of the shutdown, or when the
/// group is cancelled.
public struct ReleasedAtShutdown: Service {
    private let release: @Sendable () async -> Void

    public init(_ release: @escaping @Sendable () async -> Void) {
        self.release = release
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await release()
    }
}

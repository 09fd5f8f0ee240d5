import ArgumentParser
import Console
import Foundation
import Logging
import Recovery
import RecoveryCore
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the reconcile loop (one leader at a time) and the results consumer.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let (configuration, logger) = try common.bootstrap(label: "scheduler")
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: true)
        let redis = try await connections.redis()
        let directory = try await connections.directory()
        let publisher = try await connections.amqp(name: "scheduler-publish")
        let consumer = try await connections.amqp(name: "scheduler-consume")
        let metrics = PoolMetrics()
        let store = RedisPoolState(redis: redis)

        let probes = ProbeServer(
            routes: ProbeRoutes.make(metrics: metrics, redis: redis, postgres: directory.client, amqp: publisher, queue: configuration.topology.jobsQueue),
            logger: logger)
        try probes.startConfigured(configuration)
        defer { probes.stop() }

        let runtime = SchedulerRuntime(
            configuration: configuration, directory: directory, store: store, publisher: publisher, consumer: consumer,
            metrics: metrics, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: runtime)]
        if let console = try await ConsoleServer.configured(configuration, connections: connections, logger: logger) {
            services.append(.init(service: console))
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds)
        try await ServiceGroup(configuration: group).run()
        await publisher.close()
        await consumer.close()
    }
}

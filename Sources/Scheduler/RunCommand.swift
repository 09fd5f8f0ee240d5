import ArgumentParser
import Console
import Foundation
import Logging
import PoolCommand
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

        let process = PoolProcess(configuration: configuration, logger: logger)
        let probes = try process.startProbes(metrics: metrics, redis: redis, postgres: directory.client, amqp: publisher)

        let runtime = SchedulerRuntime(
            configuration: configuration, directory: directory, store: store, publisher: publisher, consumer: consumer,
            metrics: metrics, logger: logger)
        var services: [any Service] = [
            ReleasedAtShutdown {
                await publisher.close()
                await consumer.close()
            },
            probes.service, runtime,
        ]
        if let console = try await ConsoleServer.configured(configuration, connections: connections, logger: logger) {
            services.append(console)
        }
        try await process.run(services)
    }
}

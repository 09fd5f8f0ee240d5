import ArgumentParser
import Foundation
import PoolCommand
import Recovery
import RecoveryCore

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "One reconcile pass as a dry run: counts and ids of enabled, live, missing, stale, orphaned, parked.")

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: false)
        let directory = try await connections.directory()
        let redis = try await connections.redis()
        let publisher = try await connections.amqp(name: "scheduler-check")
        let reconciler = Reconciler(
            directory: directory, store: RedisPoolState(redis: redis).stores, bus: JobBus(connection: publisher, topology: configuration.topology),
            configuration: configuration, metrics: PoolMetrics(), logger: logger)
        let plan = try await reconciler.plan()
        await publisher.close()
        let report = plan.report
        if json {
            print(String(decoding: report.jsonData(), as: UTF8.self))
            return
        }
        print(report.summary)
        if let capacity = report.capacity {
            print(capacity.operatorLine)
        }
        for (name, ids) in [("missing", report.missing), ("stale", report.stale), ("orphaned", report.orphaned), ("parked", report.parked)] where !ids.isEmpty {
            print("\(name): \(ids.map(\.rawValue).joined(separator: " "))")
        }
    }
}

import ArgumentParser
import Foundation
import PoolCommand
import Recovery
import RecoveryCore

struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "Every worker in the registry: instance, host, pid, whether live, sessions held and capacity, last heartbeat.",
        discussion: "A worker is live while its heartbeat key exists (three heartbeat intervals); records of others are pruned by the scheduler.")

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print JSON (an array of objects, one per worker).")
    var json = false

    func run() async throws {
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: false)
        let store = RedisPoolState(redis: try await connections.redis())
        let listing = WorkerListing(registry: try await store.workers.registry(), takenAt: Date())
        if json {
            print(listing.json())
            return
        }
        print(listing.table())
        print(listing.summary)
    }
}

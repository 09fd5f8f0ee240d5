import ArgumentParser
import Foundation
import PoolCommand
import Recovery
import RecoveryCore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "One row per endpoint: enabled, state, owner worker, last heartbeat, last error.",
        discussion: """
            State is the Status of mcp:connection:{id} (Connected, Disconnected, Connecting, Failed), \
            'missing' for an enabled endpoint without one, 'parked' for a dead-lettered endpoint without \
            a live session; last error is the park's reason.
            """)

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print JSON (an array of objects, one per endpoint).")
    var json = false

    func run() async throws {
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: false)
        let reader = EndpointStatusReader(
            directory: try await connections.directory(), store: RedisPoolState(redis: try await connections.redis()),
            parkPeriod: TimeInterval(configuration.parkSeconds))
        let report = try await reader.read()
        if json {
            print(report.json())
            return
        }
        print(report.table())
        let counts = Dictionary(grouping: report.rows, by: \.state).mapValues(\.count).sorted { $0.key < $1.key }
        print("\(report.rows.count) endpoints" + (counts.isEmpty ? "" : ": " + counts.map { "\($0.value) \($0.key)" }.joined(separator: ", ")))
        if let capacity = report.capacity {
            print(capacity.operatorLine)
        }
    }
}

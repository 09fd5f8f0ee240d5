import ArgumentParser
import PoolCommand
import Recovery

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Create the endpoint tables when absent (idempotent; never alters existing tables).")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: false)
        let directory = try await connections.directory()
        try await directory.migrate()
        print("tables with prefix '\(configuration.tablePrefix)' are in place")
    }
}

import ArgumentParser
import Console
import Foundation
import PoolCommand
import Recovery
import RecoveryCore
import ServiceLifecycle

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the web console alone (scheduler run serves it too when Console:Port is set).",
        discussion: """
            Listens on Console:Host (127.0.0.1) and Console:Port, or --port; needs Console:AdminToken or \
            Console:ViewerToken (set them in the environment: Console__AdminToken). It reads what status, \
            workers, queues and dead list read; retry and purge are dead retry and dead purge.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Port to listen on instead of Console:Port (0 is not allowed here).")
    var port: Int?

    func validate() throws {
        if let port, !(1...65_535).contains(port) { throw OperatorInputError("--port must be from 1 to 65535, not \(port)") }
    }

    func run() async throws {
        var (configuration, logger) = try common.bootstrap(label: "scheduler")
        if let port, configuration.consoleAdminToken == nil, configuration.consoleViewerToken == nil {
            throw StartupError("invalid configuration \(ConfigurationKeys.consoleAdminToken.name): the console on port \(port) needs Console:AdminToken or Console:ViewerToken")
        }
        guard port != nil || configuration.consolePort != 0 else {
            throw StartupError("the console is off: set \(ConfigurationKeys.consolePort.name) (and a token) or pass --port")
        }
        logger[metadataKey: "process"] = "console"
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: true)
        guard let console = try await ConsoleServer.configured(configuration, connections: connections, logger: logger, port: port) else { return }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: console)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

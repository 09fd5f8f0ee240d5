import ArgumentParser
import ClientSupport
import Foundation
import PoolCommand
import Recovery
import RecoveryCore

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Depth of every queue of the topology: ready, unacked, consumers, dead-lettered and oldest age where the broker can tell.",
        discussion: """
            Ready and consumers come from AMQP; unacked from the RabbitMQ management API at \
            $\(RabbitManagementAPI.urlVariable) (default http://<AMQP host>:\(RabbitManagementAPI.defaultPort)), \
            shown as '-' when it cannot be reached.
            """)

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print JSON (an array of objects, one per queue).")
    var json = false

    @Option(help: ArgumentHelp("Reprint every SECONDS seconds until interrupted.", valueName: "SECONDS"))
    var watch: Int?

    func validate() throws {
        if let watch, !(1...86_400).contains(watch) {
            throw OperatorInputError("--watch must be a whole number of seconds from 1 to 86400, not \(watch)")
        }
    }

    func run() async throws {
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: false)
        let amqpURL = try configuration.require(\.amqpURL)
        let connection = try await connections.amqp(name: "scheduler-queues")
        let inspector = QueueInspector(
            connection: connection, topology: configuration.topology,
            management: try? RabbitManagementAPI.resolve(amqpURL: amqpURL.raw))
        var noted = false
        /// Prints one report; false once its reader went away (`| head`).
        func show() async throws -> Bool {
            let report = try await inspector.inspect()
            if let problem = report.managementProblem, !noted {
                noted = true
                DescriptorWrite.text("unacked counts unknown: \(problem)\n", to: STDERR_FILENO)
            }
            // Written unbuffered, so a watched report shows at once even through a pipe.
            if json {
                return DescriptorWrite.text(report.json(pretty: watch == nil) + "\n", to: STDOUT_FILENO)
            }
            return DescriptorWrite.text((watch != nil ? Timestamp.format(report.takenAt) + "\n" : "") + report.table() + "\n", to: STDOUT_FILENO)
        }
        guard let watch else {
            _ = try await show()
            await connection.close()
            return
        }
        while !Task.isCancelled {
            do {
                guard try await show() else { break }
            } catch {
                DescriptorWrite.text("cannot read the queues: \(error)\n", to: STDERR_FILENO)
            }
            if !json, !DescriptorWrite.text("\n", to: STDOUT_FILENO) { break }
            try await Task.sleep(for: .seconds(watch))
        }
        await connection.close()
    }
}

import ArgumentParser
import ClientSupport
import Foundation
import PoolCommand
import Recovery
import RecoveryCore

/// One line of bad input: printed as `Error: …` without the usage block, and a non-zero exit.
struct OperatorInputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `1 dead job`, `2 dead jobs`.
func counted(_ number: Int, _ noun: String) -> String {
    "\(number) \(noun)\(number == 1 ? "" : "s")"
}

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "The dead-lettered jobs: list, retry or purge them.",
        subcommands: [DeadListCommand.self, DeadRetryCommand.self, DeadPurgeCommand.self])
}

/// `--all` or `--server ID...`, shared by retry and purge.
struct DeadSelectionOptions: ParsableArguments {
    @Flag(help: "Every dead-lettered job.")
    var all = false

    @Option(name: .customLong("server"), parsing: .upToNextOption, help: ArgumentHelp("The dead jobs of these endpoint ids (repeatable).", valueName: "id"))
    var servers: [String] = []

    func selection() throws -> DeadLetterSelection {
        if all && !servers.isEmpty { throw OperatorInputError("give either --all or --server ID..., not both") }
        if let bad = servers.first(where: { $0.isEmpty || $0.count > 200 || $0.contains(where: \.isWhitespace) }) {
            throw OperatorInputError("invalid endpoint id '\(bad.prefix(60))' for --server")
        }
        guard let selection = DeadLetterSelection(all: all, servers: servers.map(EndpointID.init(rawValue:))) else {
            throw OperatorInputError("say which dead jobs: --all or --server ID...")
        }
        return selection
    }
}

struct DeadListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "The dead-lettered jobs: server, reason, attempts, last error, when.",
        discussion: "Reads the dead-letter queue without removing anything (messages are held unacked, then requeued).")

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print JSON (an array of objects, one per dead job).")
    var json = false

    func run() async throws {
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connection = try await PoolConnections(configuration: configuration, logger: logger, waitForServers: false).amqp(name: "scheduler-dead-list")
        let queue = DeadLetterQueue(connection: connection, topology: configuration.topology)
        let listing = DeadLetterListing(letters: try await queue.list(), takenAt: Date())
        await connection.close()
        if json {
            print(listing.json())
        } else {
            if !listing.letters.isEmpty { print(listing.table()) }
            print(listing.summary)
        }
    }
}

struct DeadRetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Move dead jobs back to the jobs queue as new jobs (reason manual, attempt 1) and unpark their endpoints.",
        discussion: """
            Each new job is published with a confirm before its dead letter is removed, so a crash half \
            way never loses one (at worst a job is duplicated, which the endpoint's lease makes harmless).
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var target: DeadSelectionOptions

    @Option(help: "Retry at most this many dead jobs (oldest first).")
    var limit: Int?

    func validate() throws {
        _ = try target.selection()
        if let limit, limit < 1 { throw OperatorInputError("--limit must be at least 1, not \(limit)") }
    }

    func run() async throws {
        let selection = try target.selection()
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: false)
        let store = RedisPoolState(redis: try await connections.redis())
        let holder = try await connections.amqp(name: "scheduler-dead-retry")
        let publisher = try await connections.amqp(name: "scheduler-dead-retry-publish")
        let queue = DeadLetterQueue(
            connection: holder, bus: JobBus(connection: publisher, topology: configuration.topology), store: store,
            pendingTtl: .seconds(configuration.pendingTtlSeconds))
        let report = try await queue.retry(selection, limit: limit)
        await holder.close()
        await publisher.close()
        print("retried \(counted(report.retried, "dead job")) (\(counted(report.jobs.count, "endpoint")) unparked and queued); \(report.remaining) left in the dead queue")
        if report.skippedWithoutEndpoint > 0 {
            print("\(counted(report.skippedWithoutEndpoint, "malformed dead job")) naming no endpoint left in place (purge them)")
        }
        if report.notRemoved > 0 {
            print("\(counted(report.notRemoved, "dead job")) queued again but not removed from the dead queue (the connection was lost)")
        }
        for (server, reason) in report.failed.sorted(by: { $0.key < $1.key }) {
            DescriptorWrite.text("server \(server) not retried: \(reason)\n", to: STDERR_FILENO)
        }
        if !report.failed.isEmpty { throw ExitCode.failure }
    }
}

struct DeadPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Drop dead jobs for good (needs --yes).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var target: DeadSelectionOptions

    @Flag(help: "Confirm that the selected dead jobs are to be deleted.")
    var yes = false

    func validate() throws {
        _ = try target.selection()
        guard yes else { throw OperatorInputError("dead purge deletes dead jobs for good: add --yes to confirm") }
    }

    func run() async throws {
        let selection = try target.selection()
        let (configuration, logger) = try common.bootstrap(label: "scheduler", operatorCommand: true)
        let connection = try await PoolConnections(configuration: configuration, logger: logger, waitForServers: false).amqp(name: "scheduler-dead-purge")
        let report = try await DeadLetterQueue(connection: connection, topology: configuration.topology).purge(selection)
        await connection.close()
        print("purged \(counted(report.purged, "dead job")); \(report.remaining) left in the dead queue")
        if report.notRemoved > 0 {
            print("\(report.notRemoved) could not be removed (the connection was lost); run the command again")
            throw ExitCode.failure
        }
    }
}

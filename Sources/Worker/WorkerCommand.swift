import ArgumentParser
import Recovery
import RecoveryCore

@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consumes recovery jobs, holds the Xiaozhi sessions it opens and serves MCP on them.",
        version: PoolVersion.current,
        subcommands: [RunCommand.self])
}

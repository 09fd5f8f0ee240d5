import ArgumentParser
import Recovery

@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consumes recovery jobs, holds the Xiaozhi sessions it opens and serves MCP on them.",
        subcommands: [RunCommand.self])
}

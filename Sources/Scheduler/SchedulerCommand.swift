import ArgumentParser
import Recovery

@main
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Keeps every enabled Xiaozhi MCP endpoint connected: reconciles Postgres with Redis and publishes recovery jobs.",
        subcommands: [RunCommand.self, CheckCommand.self, MigrateCommand.self, QueuesCommand.self, DeadCommand.self, StatusCommand.self, WorkersCommand.self, ConsoleCommand.self])
}

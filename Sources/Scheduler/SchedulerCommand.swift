import ArgumentParser
import Recovery
import RecoveryCore

@main
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Keeps every enabled Xiaozhi MCP endpoint connected: reconciles Postgres with Redis and publishes recovery jobs.",
        version: PoolVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, MigrateCommand.self, QueuesCommand.self, DeadCommand.self, StatusCommand.self, WorkersCommand.self, ConsoleCommand.self])
}

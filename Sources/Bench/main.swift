import ArgumentParser

/// Temporary entry point while the subcommand list is wired elsewhere.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", subcommands: [AMQPPublishBench.self])
}

do {
    var command = try BenchCommand.parseAsRoot()
    if let publishBench = command as? AMQPPublishBench {
        try await publishBench.run()
    } else {
        try command.run()
    }
} catch {
    BenchCommand.exit(withError: error)
}

import ArgumentParser

// Temporary entry point until the subcommand list is wired.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        subcommands: [RedisBench.self, PostgresBench.self]
    )
}

do {
    var command = try BenchCommand.parseAsRoot()
    switch command {
    case let redis as RedisBench: try await redis.run()
    case let postgres as PostgresBench: try await postgres.run()
    default: try command.run()
    }
} catch {
    BenchCommand.exit(withError: error)
}

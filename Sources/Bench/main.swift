// Bench entry point: one subcommand per benchmark file.
import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks of the recovery pool's parts.",
        subcommands: [SessionBench.self, MaskingBench.self]
    )
}

/// Calls the asynchronous `run()` (top-level code would pick the synchronous one that prints help).
func runAsynchronously(_ command: inout some AsyncParsableCommand) async throws {
    let body: (inout any AsyncParsableCommand) async throws -> Void = { try await $0.run() }
    var erased: any AsyncParsableCommand = command
    try await body(&erased)
}

do {
    var command = try await BenchCommand.asyncParseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await runAsynchronously(&asyncCommand)
    } else {
        try command.run()
    }
} catch {
    BenchCommand.exit(withError: error)
}

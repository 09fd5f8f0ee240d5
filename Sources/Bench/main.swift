// Bench entry point (the lead wires the full subcommand list).
import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", subcommands: [BridgeBench.self])
}

do {
    var command = try Bench.parseAsRoot()
    if let bridge = command as? BridgeBench {
        try await bridge.run()
    } else {
        try command.run()
    }
} catch {
    Bench.exit(withError: error)
}

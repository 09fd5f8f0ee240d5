import Foundation

/// A product of this package (`scheduler`, `worker`, `xiaozhi-sim`) run as a child process by a test,
/// its output captured to a log file that a failing test can read.
final class PoolProcess: @unchecked Sendable {
    let name: String
    let process = Process()
    let logURL: URL

    /// The folder of the built products: beside the test bundle, or `XZ_BIN_DIR`.
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["XZ_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// `launcher` runs the product (for example `["/usr/bin/prlimit", "--nofile=600:600"]`, which execs it);
    /// `output` takes its standard output and error instead of the log file (which then stays empty).
    init(product: String, arguments: [String], environment: [String: String], name: String? = nil, launcher: [String] = [],
         output: FileHandle? = nil) throws {
        self.name = name ?? product
        let executable = Self.binDirectory.appendingPathComponent(product)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw HarnessError("product '\(product)' is not built at \(executable.path); run `swift build --build-tests`")
        }
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("xiaozhi-pool-test-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        logURL = logs.appendingPathComponent("\(self.name)-\(UUID().uuidString.prefix(8)).log")
        // A file that could not be made shows as the error of opening it, next.
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = output ?? handle
        process.standardError = output ?? handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    /// Sends `signal` (SIGTERM, SIGKILL, SIGINT).
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit for at most `timeout`; returns the exit status or nil when still running.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace`.
    func stop(grace: Duration = .seconds(10)) async {
        guard process.isRunning else { return }
        send(SIGTERM)
        if await waitForExit(timeout: grace) == nil {
            send(SIGKILL)
            _ = await waitForExit(timeout: .seconds(5))
        }
    }

    /// Everything the process wrote so far.
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration, every interval: Duration = .milliseconds(200), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}

/// The value of a required environment variable, or an error naming it.
func requiredEnvironment(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw HarnessError("\(name) is not set: run the tests with scripts/test.sh, which starts the servers")
    }
    return value
}

import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// The `scheduler` operator commands as an operator runs them: the built executable, its exit status,
/// standard output and standard error.
@Suite struct OperationsCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the built `scheduler` with `arguments`, the test environment plus `environment`.
    static func scheduler(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let executable = PoolProcess.binDirectory.appendingPathComponent("scheduler")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw OperationsTestFailure("scheduler is not built at \(executable.path); run `swift build --build-tests`")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ops-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout")
        let err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        process.currentDirectoryURL = directory
        try process.run()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init)
    }

    @Test func retryWithoutASelectionFailsWithOneLine() throws {
        let run = try Self.scheduler(["dead", "retry"])
        #expect(run.status != 0)
        #expect(Self.lines(run.stderr) == ["Error: say which dead jobs: --all or --server ID..."])
    }

    @Test func retryWithBothSelectionsFailsWithOneLine() throws {
        let run = try Self.scheduler(["dead", "retry", "--all", "--server", "abc"])
        #expect(run.status != 0)
        #expect(Self.lines(run.stderr) == ["Error: give either --all or --server ID..., not both"])
    }

    @Test func purgeWithoutYesRefuses() throws {
        let run = try Self.scheduler(["dead", "purge", "--all"])
        #expect(run.status != 0)
        #expect(Self.lines(run.stderr) == ["Error: dead purge deletes dead jobs for good: add --yes to confirm"])
    }

    @Test func watchNeedsAPositiveInterval() throws {
        let run = try Self.scheduler(["queues", "--watch", "0"])
        #expect(run.status != 0)
        #expect(Self.lines(run.stderr).count == 1)
        #expect(run.stderr.contains("--watch"))
    }

    /// `scheduler queues --watch 1 | head -3`: once the reader has gone, the next report ends the watch
    /// and the command exits 0, where a write through `FileHandle` trapped on the broken pipe.
    @Test func aWatchWhoseReaderWentAwayEndsQuietly() async throws {
        let executable = PoolProcess.binDirectory.appendingPathComponent("scheduler")
        let process = Process()
        process.executableURL = executable
        process.arguments = ["queues", "--watch", "1"]
        process.environment = ProcessInfo.processInfo.environment.merging(["Queue__Prefix": OperationsServers.uniquePrefix("watch")]) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try output.fileHandleForReading.close()
        try output.fileHandleForWriting.close()
        let exited = await eventually(timeout: .seconds(60)) { !process.isRunning }
        if !exited { process.terminate() }
        #expect(exited, "the watch went on writing to a pipe nobody reads")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                "reason \(process.terminationReason.rawValue), status \(process.terminationStatus)")
    }

    @Test func everyOperatorCommandHasHelp() throws {
        for command in [["queues"], ["dead"], ["dead", "list"], ["dead", "retry"], ["dead", "purge"], ["status"], ["workers"]] {
            let run = try Self.scheduler(command + ["--help"])
            #expect(run.status == 0, "\(command) --help")
            #expect(run.stdout.contains("USAGE"), "\(command) --help")
        }
    }

    @Test func anUnreachableBrokerIsOneLineWithoutThePassword() throws {
        let run = try Self.scheduler(["dead", "list"], environment: ["AMQP_URL": "amqp://pool:cli-secret-pw@127.0.0.1:9/%2f"])
        #expect(run.status != 0)
        #expect(!run.stderr.contains("cli-secret-pw") && !run.stdout.contains("cli-secret-pw"))
        #expect(Self.lines(run.stderr).filter { $0.hasPrefix("Error:") }.count == 1)
    }

    @Test func queuesAndDeadListPrintJSONForTheConfiguredPrefix() async throws {
        let prefix = OperationsServers.uniquePrefix("cli")
        let configuration = try OperationsServers.configuration(prefix: prefix)
        let declared = try await OperationsTopology.declare(configuration.topology, purpose: "cli")
        do {
            let job = operationsJob()
            try await declared.publishDead(job, reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 404"), at: Date())

            let queues = try Self.scheduler(["queues", "--json", "--set", "Queue:Prefix=\(prefix)"])
            #expect(queues.status == 0, "\(queues.stderr)")
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(queues.stdout.utf8)) as? [[String: Any]])
            #expect(objects.compactMap { $0["name"] as? String } == configuration.topology.queueNames)
            #expect(objects.first { $0["role"] as? String == "dead" }?["deadLettered"] as? Int == 1)

            let list = try Self.scheduler(["dead", "list", "--json", "--set", "Queue:Prefix=\(prefix)"])
            #expect(list.status == 0, "\(list.stderr)")
            // The clients' info lines stay out of an operator command's output unless asked for.
            let infoLine = #/^\d{4}-\d\d-\d\dT\S+ (trace|debug|info|notice) /#
            #expect(!Self.lines(list.stderr).contains { $0.contains(infoLine) }, "\(list.stderr)")
            let verbose = try Self.scheduler(["dead", "list", "--verbose", "--set", "Queue:Prefix=\(prefix)"])
            #expect(verbose.status == 0 && Self.lines(verbose.stderr).contains { $0.contains(infoLine) }, "\(verbose.stderr)")
            let letters = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(letters.count == 1)
            #expect(letters.first?["serverId"] as? String == job.endpointId.rawValue)
            #expect(letters.first?["reason"] as? String == "permanent")
            #expect(letters.first?["lastError"] as? String == "HTTP 404")

            let purge = try Self.scheduler(["dead", "purge", "--server", job.endpointId.rawValue, "--yes", "--set", "Queue:Prefix=\(prefix)"])
            #expect(purge.status == 0, "\(purge.stderr)")
            #expect(purge.stdout.contains("purged 1 dead job;"))
            #expect(try await DeadLetterQueue(connection: declared.connection, topology: configuration.topology).list().isEmpty)
        } catch {
            await declared.tearDown()
            throw error
        }
        await declared.tearDown()
    }
}

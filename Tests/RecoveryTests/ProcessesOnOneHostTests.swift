import Foundation
import Testing

/// A scheduler and several workers on one host with no per-process flags: each serves its metrics on
/// the first free port from `Metrics:Port`, says which, and a worker keeps it in its record.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ProcessesOnOneHostTests {
    /// The port a process said it serves on.
    static func boundPort(_ log: String) -> Int? {
        guard let match = log.firstMatch(of: #/metrics and health on 127\.0\.0\.1:(\d+)/#) else { return nil }
        return Int(match.1)
    }

    @Test func aSchedulerAndTwoWorkersShareTheDefaultPortRange() async throws {
        let cluster = try await PoolCluster()
        // The default port, as a process started with no flags has it (the harness disables it otherwise).
        let defaults = ["Metrics__Port": "9464", "Metrics__Host": "127.0.0.1"]
        var processes: [PoolProcess] = []
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(2)
            processes.append(try PoolProcess(
                product: "scheduler", arguments: ["run"], environment: cluster.environment.merging(defaults) { _, new in new },
                name: "\(cluster.namespace)-scheduler"))
            processes.append(try cluster.startWorker(overrides: defaults))
            processes.append(try cluster.startWorker(overrides: defaults))

            let said = await eventually(timeout: .seconds(40)) { processes.allSatisfy { Self.boundPort($0.log) != nil } }
            #expect(said, "\(processes.map(\.log))")
            let ports = processes.compactMap { Self.boundPort($0.log) }
            #expect(Set(ports).count == 3, "each process has a port of its own: \(ports)")
            #expect(ports.allSatisfy { (9464..<9464 + 64).contains($0) }, "\(ports)")
            #expect(processes.allSatisfy { $0.isRunning })
            for port in ports {
                #expect(try await probe(port, "/healthz").status == 200, "port \(port)")
            }
            #expect(try await cluster.waitUntilConnected(2, timeout: .seconds(40)), "\(cluster.logs)")
            let listed = await eventually(timeout: .seconds(30)) {
                guard let run = try? await cluster.schedulerCommand(["workers", "--json"]),
                      let rows = try? JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[String: Any]] else { return false }
                return Set(rows.compactMap { $0["metricsPort"] as? Int }) == Set(ports.dropFirst())
            }
            #expect(listed, "the workers' records carry their ports")
        } catch {
            Issue.record("logs:\n\(processes.map(\.log).joined(separator: "\n"))")
            for process in processes { await process.stop() }
            await cluster.shutdown()
            throw error
        }
        for process in processes { await process.stop() }
        await cluster.shutdown()
    }
}

import Foundation
import Synchronization
import Testing
@testable import Recovery

/// Every server restarted under a running pool: the processes reconnect and carry on.
@Suite(.serialized, .timeLimit(.minutes(6)))
struct EndToEndOutageTests {
    @Test func thePoolCarriesOnThroughRestartsOfRabbitMQRedisAndPostgres() async throws {
        let cluster = try await PoolCluster()
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(20)
            try cluster.startScheduler()
            for _ in 0..<2 { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(20, timeout: .seconds(40)))

            try ServerControl.run("restart", "rabbitmq")
            // Stops still reach workers after the broker came back: disable one endpoint.
            try await cluster.setEnabled([1], false)
            #expect(try await cluster.waitUntilConnected(19, timeout: .seconds(60)), "\(cluster.logs)")

            try ServerControl.run("restart", "redis")
            // Redis lost everything: the holders restore their leases and states.
            #expect(try await cluster.waitUntilConnected(19, timeout: .seconds(60)), "\(cluster.logs)")

            try ServerControl.run("restart", "postgres")
            let enabledAgain = await eventually(timeout: .seconds(30)) {
                (try? await cluster.setEnabled([1], true)) != nil
            }
            #expect(enabledAgain)
            #expect(try await cluster.waitUntilConnected(20, timeout: .seconds(60)), "\(cluster.logs)")

            let status = try await cluster.simulatorStatus()
            #expect(status.connectedCount == 20)
            #expect(status.evictions == 0)
            for process in [cluster.scheduler].compactMap({ $0 }) + cluster.workers {
                #expect(process.isRunning, "\(process.name) exited:\n\(process.log)")
            }
            let topology = cluster.configuration.topology
            // The test's own broker connection may still be backing off after the restart: poll.
            let counts = Mutex<String>("never read")
            let settled = await eventually(timeout: .seconds(30)) {
                guard let jobs = try? await cluster.amqp.inspectQueue(topology.jobsQueue),
                      let dead = try? await cluster.amqp.inspectQueue(topology.deadQueue) else { return false }
                counts.withLock { $0 = "jobs \(jobs.messageCount), dead \(dead.messageCount)" }
                return jobs.messageCount == 0 && dead.messageCount == 0
            }
            #expect(settled, "jobs left queued or dead-lettered (\(counts.withLock { $0 })):\n\(cluster.logs)")
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}

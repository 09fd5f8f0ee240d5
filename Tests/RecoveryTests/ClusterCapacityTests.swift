import Foundation
import Testing

/// The cluster knows its capacity (the live workers' slots) and says so, in the log and as metrics, when
/// enabled endpoints exceed it; and says when it is enough again.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ClusterCapacityTests {
    @Test func enabledEndpointsBeyondTheWorkersSlotsAreReportedUntilAWorkerIsAdded() async throws {
        let cluster = try await PoolCluster()
        let probes = try ProbedProcesses(cluster: cluster)
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(8)
            try probes.startScheduler()
            try cluster.startWorker(maxSessions: 5)

            let alarmed = await eventually(timeout: .seconds(40)) {
                guard let metrics = try? await PrometheusText(probe(probes.schedulerPort, "/metrics").body) else { return false }
                return metrics.value("mcp_recovery_capacity_shortfall") == 3
            }
            let metrics = try await PrometheusText(probe(probes.schedulerPort, "/metrics").body)
            #expect(alarmed, "scheduler metrics:\n\(metrics.text)")
            #expect(metrics.value("mcp_recovery_capacity_slots") == 5)
            #expect(metrics.value("mcp_recovery_enabled_endpoints") == 8)
            #expect(metrics.value("mcp_recovery_workers_live") == 1)
            let said = await eventually(timeout: .seconds(20)) {
                probes.scheduler?.log.contains("Enabled endpoints exceed the cluster's capacity: 3 of 8 cannot be connected (5 session slots on 1 workers)") == true
            }
            #expect(said, "\(probes.logs)")
            let status = try await cluster.schedulerCommand(["status"])
            #expect(status.status == 0 && status.output.contains("capacity: enabled=8 slots=5 workers=1 shortfall=3 (exceeded"), "\(status.output)")
            #expect(try await cluster.simulatorStatus().connectedCount <= 5)

            try cluster.startWorker(maxSessions: 5)
            #expect(try await cluster.waitUntilConnected(8, timeout: .seconds(40)), "\(cluster.logs)")
            let cleared = await eventually(timeout: .seconds(20)) {
                probes.scheduler?.log.contains("The cluster's capacity covers the enabled endpoints again") == true
            }
            #expect(cleared, "\(probes.logs)")
            #expect(try await PrometheusText(probe(probes.schedulerPort, "/metrics").body).value("mcp_recovery_capacity_shortfall") == 0)
            let check = try await cluster.schedulerCommand(["check"])
            #expect(check.status == 0 && check.output.contains("capacity: enabled=8 slots=10 workers=2 shortfall=0"), "\(check.output)")
            // The sessions held are as of each worker's last heartbeat; the slots are fixed.
            let workers = try await cluster.schedulerCommand(["workers"])
            #expect(workers.status == 0 && workers.output.contains("2 live workers: ") && workers.output.contains(" of 10 slots"), "\(workers.output)")
            #expect(workers.output.contains("INSTANCE") && workers.output.contains("CAPACITY"), "\(workers.output)")
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)\n\(probes.logs)")
            await probes.stop()
            await cluster.shutdown()
            throw error
        }
        await probes.stop()
        await cluster.shutdown()
    }

    @Test func aWorkerWhoseOpenFileLimitIsTooLowSaysSoAndOffersOnlyWhatFits() async throws {
        let cluster = try await PoolCluster()
        do {
            try await cluster.seedEndpoints(1)
            // 600 descriptors hold (600 - 256) * 2 / 3 = 229 sessions, not the 1,000 asked for.
            let worker = try cluster.startWorker(maxSessions: 1000, launcher: ["/usr/bin/prlimit", "--nofile=600:600"])
            let said = await eventually(timeout: .seconds(30)) {
                worker.log.contains("open-file limit 600 is below the 1756 that Worker:MaxSessions=1000 needs: holding at most 229 sessions")
            }
            #expect(said, "\(worker.log)")
            let recorded = await eventually(timeout: .seconds(30)) {
                (try? await cluster.schedulerCommand(["check"]).output.contains("slots=229 workers=1")) == true
            }
            #expect(recorded, "\(cluster.logs)")
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}

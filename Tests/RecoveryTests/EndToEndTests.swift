import AMQPClient
import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// The pool as operators run it: `xiaozhi-sim`, a scheduler and workers as processes on the real servers.
/// Each test has a cluster of its own (its own Redis database, table prefix and queue prefix).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct EndToEndTests {
    /// Runs `body` on a fresh cluster and tears it down; on failure the processes' logs are attached.
    func withCluster(settings: [String: String] = [:], _ body: (PoolCluster) async throws -> Void) async throws {
        let cluster = try await PoolCluster(settings: settings)
        do {
            try await body(cluster)
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    @Test func twoHundredEndpointsConnectExactlyOnceEach() async throws {
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(200)
            try cluster.startScheduler()
            for _ in 0..<3 { try cluster.startWorker() }

            let connected = try await cluster.waitUntilConnected(200, timeout: .seconds(60))
            #expect(connected, "\(cluster.logs)")
            let status = try await cluster.simulatorStatus()
            #expect(status.evictions == 0)
            #expect(status.connects == 200)
            let rows = try await cluster.postgres.query("SELECT count(*) FROM \(cluster.schema.endpoints) WHERE \"IsConnected\"")
            #expect(try rows.first?.decode(at: 0, as: Int.self) == 200)
        }
    }

    @Test func redisFlushedIsRestoredWithoutASecondSession() async throws {
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(30)
            try cluster.startScheduler()
            for _ in 0..<2 { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(30, timeout: .seconds(40)))

            _ = try await cluster.redis.send("FLUSHDB")
            // One check interval (2 s) plus the renewal grace plus connect time.
            #expect(try await cluster.waitUntilConnected(30, timeout: .seconds(20)))
            try await Task.sleep(for: .seconds(3))
            let status = try await cluster.simulatorStatus()
            #expect(status.connectedCount == 30)
            #expect(status.evictions == 0)
        }
    }

    /// Kills the worker holding the most sessions with SIGKILL; whether, within `timeout`, all `endpoints`
    /// are connected again (states and simulator) with none of them on the killed worker.
    func killBusiestWorkerAndWaitForItsEndpoints(_ cluster: PoolCluster, endpoints: Int, timeout: Duration) async throws -> Bool {
        let victim = try #require(await busiestWorker(cluster))
        let victimInstance = try await instances(of: victim, in: cluster)
        #expect(!victimInstance.isEmpty)
        victim.send(SIGKILL)
        return try await eventually(timeout: timeout, every: .milliseconds(500)) {
            let states = try await cluster.connectedStates()
            let status = try await cluster.simulatorStatus()
            return states.count == endpoints && status.connectedCount == endpoints
                && !states.values.contains { $0.instanceId == victimInstance }
        }
    }

    @Test func aKilledWorkersEndpointsRunElsewhereOnceItsLeasesLapse() async throws {
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(30)
            try cluster.startScheduler()
            for _ in 0..<3 { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(30, timeout: .seconds(40)))

            #expect(try await killBusiestWorkerAndWaitForItsEndpoints(cluster, endpoints: 30, timeout: .seconds(30)))
            #expect(try await cluster.simulatorStatus().evictions == 0)
        }
    }

    @Test func aKilledWorkersLeasesLapsingStartACycleWithoutWaitingForTheInterval() async throws {
        // A check interval far longer than the test: only the leader's lapse watch can bring the killed
        // worker's endpoints back in time.
        try await withCluster(settings: ["ConnectionMonitor__CheckIntervalSeconds": "300"]) { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(20)
            try cluster.startScheduler()
            for _ in 0..<2 { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(20, timeout: .seconds(40)))

            let moved = try await killBusiestWorkerAndWaitForItsEndpoints(cluster, endpoints: 20, timeout: .seconds(40))
            #expect(moved, "scheduler log:\n\(cluster.scheduler?.log ?? "")")
            #expect(cluster.scheduler?.log.contains("leases lapsed since the last cycle; reconciling now") == true)
            #expect(try await cluster.simulatorStatus().evictions == 0)
        }
    }

    @Test func aWorkerSentSIGTERMHandsEverySessionOff() async throws {
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(30)
            try cluster.startScheduler()
            for _ in 0..<3 { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(30, timeout: .seconds(40)))

            let leaving = try #require(await busiestWorker(cluster))
            let leavingInstance = try await instances(of: leaving, in: cluster)
            leaving.send(SIGTERM)
            let exit = await leaving.waitForExit(timeout: .seconds(20))
            #expect(exit == 0, "\(leaving.log)")
            #expect(leaving.log.contains("handing off"))
            // Its last step: the worker's record is gone from the registry, not left to lapse.
            #expect(!leavingInstance.isEmpty)
            #expect(try await cluster.redis.send("HEXISTS", RedisKeys.workers, leavingInstance).integer == 0)
            #expect(try await cluster.redis.send("EXISTS", RedisKeys.workerAlive(leavingInstance)).integer == 0)
            let back = try await eventually(timeout: .seconds(10), every: .milliseconds(250)) {
                let states = try await cluster.connectedStates()
                let simulated = try await cluster.simulatorStatus().connectedCount
                return states.count == 30 && simulated == 30 && !states.values.contains { $0.instanceId == leavingInstance }
            }
            #expect(back)
            #expect(try await cluster.simulatorStatus().evictions == 0)
        }
    }

    @Test func sessionsLostAsTheWorkerStopsLeaveNoPendingMarkerWithoutItsJob() async throws {
        // Each loss sets the endpoint's pending marker and publishes its `released` job; a stop that lands
        // between the two must not end the process before the job is out. The window is a few
        // milliseconds wide, so the stop comes at several offsets from the drop.
        let endpoints = 200
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(endpoints)
            for offset in [5, 15, 30, 50, 80, 120] {
                try cluster.startScheduler()
                let worker = try cluster.startWorker()
                #expect(try await cluster.waitUntilConnected(endpoints, timeout: .seconds(60)), "offset \(offset) ms")
                // Only the worker publishes jobs from here on.
                let scheduler = try #require(cluster.scheduler)
                scheduler.send(SIGTERM)
                #expect(await scheduler.waitForExit(timeout: .seconds(20)) == 0)

                _ = try await cluster.httpRaw("POST", "/faults/drop-all")
                try await Task.sleep(for: .milliseconds(offset))
                worker.send(SIGTERM)
                #expect(await worker.waitForExit(timeout: .seconds(30)) == 0, "\(worker.log)")

                let orphans = try await pendingMarkersWithoutTheirJob(cluster, endpoints: endpoints)
                #expect(orphans.isEmpty, "stopped \(offset) ms after the drop: pending markers whose job is not queued: \(orphans)\n\(worker.log.suffix(4000))")
                guard orphans.isEmpty else { return }
            }
        }
    }

    /// The endpoints whose pending marker names a job that is in none of the job and retry queues (the
    /// queued jobs stay queued).
    func pendingMarkersWithoutTheirJob(_ cluster: PoolCluster, endpoints: Int) async throws -> [EndpointID] {
        let topology = cluster.configuration.topology
        var queued: Set<String> = []
        var taken: [AMQPDelivery] = []
        // The retry queues before the jobs queue: a retry whose delay ends during the read moves to the
        // jobs queue, which is read after it.
        for queue in (0..<topology.retryDelays.count).map(topology.retryQueue(step:)) + [topology.jobsQueue] {
            while let delivery = try await cluster.amqp.get(queue: queue) {
                taken.append(delivery)
                if let job = try? RecoveryJob.decode(Data(delivery.body)) { queued.insert(job.jobId) }
            }
        }
        for delivery in taken { _ = try await cluster.amqp.nack(delivery, requeue: true) }
        var orphans: [EndpointID] = []
        for index in 1...endpoints {
            let id = PoolCluster.endpointId(index)
            if let jobId = try await cluster.redis.send("GET", RedisKeys.pending(id)).string, !queued.contains(jobId) {
                orphans.append(id)
            }
        }
        return orphans
    }

    @Test func disabledEndpointsAreClosedAndTheirStatesGo() async throws {
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(30)
            try cluster.startScheduler()
            for _ in 0..<2 { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(30, timeout: .seconds(40)))

            try await cluster.setEnabled(Array(1...10), false)
            #expect(try await cluster.waitUntilConnected(20, timeout: .seconds(15)))
            let states = try await cluster.connectedStates()
            for index in 1...10 {
                #expect(states[PoolCluster.endpointId(index)] == nil)
                #expect(try await cluster.store.states.read(endpointId: PoolCluster.endpointId(index)) == .absent)
            }
            let rows = try await cluster.postgres.query(
                "SELECT count(*) FROM \(cluster.schema.endpoints) WHERE NOT \"IsEnabled\" AND NOT \"IsConnected\" AND \"LastDisconnectedAt\" IS NOT NULL")
            #expect(try rows.first?.decode(at: 0, as: Int.self) == 10)
        }
    }

    @Test func aRejectedTokenIsDeadLetteredOnceAndParkedUntilItsRowIsFixedOrRetried() async throws {
        try await withCluster { cluster in
            let tokens = FileManager.default.temporaryDirectory.appendingPathComponent("\(cluster.namespace)-tokens.txt")
            try "token-1\ntoken-2\n".write(to: tokens, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: tokens) }
            try await cluster.startSimulator(arguments: ["--tokens", tokens.path])
            try await cluster.seedEndpoints(4)
            try cluster.startScheduler()
            try cluster.startWorker()
            #expect(try await cluster.waitUntilConnected(2, timeout: .seconds(30)))
            let parked = try await eventually(timeout: .seconds(20)) {
                try await cluster.store.markers.parkedEndpoints().keys.sorted() == [PoolCluster.endpointId(3), PoolCluster.endpointId(4)]
            }
            #expect(parked)
            // Several check intervals later it is still parked: one dead letter each, no new attempt.
            try await Task.sleep(for: .seconds(5))
            let listing = try await cluster.schedulerCommand(["dead", "list", "--json"])
            #expect(listing.status == 0, "\(listing.output)")
            #expect(listing.output.components(separatedBy: PoolCluster.endpointId(3).rawValue).count - 1 == 1)
            #expect(listing.output.components(separatedBy: PoolCluster.endpointId(4).rawValue).count - 1 == 1)
            #expect(listing.output.contains("permanent"))
            #expect(!listing.output.contains("token-3"))
            #expect(try await cluster.simulatorStatus().rejectedTokens == 2)

            // Fixing the row ends the park.
            try await cluster.setAddress(3, token: "token-1b")
            try "token-1\ntoken-2\ntoken-1b\ntoken-4\n".write(to: tokens, atomically: true, encoding: .utf8)
            try await cluster.restartSimulator()
            #expect(try await cluster.waitUntilConnected(3, timeout: .seconds(30)))
            // The operator's retry ends the other.
            let retry = try await cluster.schedulerCommand(["dead", "retry", "--server", PoolCluster.endpointId(4).rawValue])
            #expect(retry.status == 0, "\(retry.output)")
            #expect(try await cluster.waitUntilConnected(4, timeout: .seconds(30)))
        }
    }

    @Test func refusedConnectionsAreRetriedWithGrowingDelaysThenRecover() async throws {
        try await withCluster(settings: ["Retry__MaxAttempts": "20", "Retry__DelaysSeconds": "1,2,4"]) { cluster in
            try await cluster.startSimulator()
            try await cluster.setFaults(#"{"refuseNew": true}"#)
            try await cluster.seedEndpoints(5)
            try cluster.startScheduler()
            let worker = try cluster.startWorker()
            let retried = await eventually(timeout: .seconds(20)) { worker.log.contains("attempt=3") }
            #expect(retried, "\(worker.log)")
            #expect(worker.log.contains("connection refused"))
            try await cluster.setFaults(#"{"refuseNew": false}"#)
            #expect(try await cluster.waitUntilConnected(5, timeout: .seconds(20)))
            #expect(try await cluster.store.markers.parkedEndpoints().isEmpty)
        }
    }

    @Test func aMalformedJobIsDeadLetteredWithItsReasonAndTheWorkerCarriesOn() async throws {
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(2)
            try cluster.startScheduler()
            let worker = try cluster.startWorker()
            #expect(try await cluster.waitUntilConnected(2, timeout: .seconds(30)))

            let topology = cluster.configuration.topology
            let outcome = try await cluster.amqp.publish(OutboundMessage(
                exchange: topology.jobRoute.exchange, routingKey: topology.jobRoute.routingKey, body: Array("not json {".utf8)))
            #expect(outcome == .confirmed)
            let dead = try await eventually(timeout: .seconds(15)) {
                (try await cluster.amqp.inspectQueue(topology.deadQueue)).messageCount == 1
            }
            #expect(dead)
            let delivery = try #require(try await cluster.amqp.get(queue: topology.deadQueue))
            #expect(delivery.body == Array("not json {".utf8))
            #expect(delivery.headers[Topology.DeadLetterHeader.reason]?.stringValue == "malformed")
            _ = try await cluster.amqp.nack(delivery, requeue: true)
            #expect(worker.isRunning)

            try await cluster.seedEndpoints(3...3)
            #expect(try await cluster.waitUntilConnected(3, timeout: .seconds(20)))
        }
    }

    @Test func aStateWrittenByTheOriginalPlatformCountsAsLive() async throws {
        try await withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(3)
            let original = PoolCluster.endpointId(1)
            let heartbeat = Task {
                while !Task.isCancelled {
                    let state = #"{"ServerId":"\#(original)","InstanceId":"dotnet-api-1","Status":0,"LastConnectedTime":"2026-01-01T00:00:00Z","LastDisconnectedTime":null,"LastHeartbeat":"\#(Timestamp.format(Date()))","ReconnectAttempts":0,"ServerName":"endpoint-1","WebSocketEndpoint":"ws://127.0.0.1/mcp/?token=***"}"#
                    _ = try? await cluster.redis.pipeline([
                        .init("SET", RedisKeys.connectionState(original), state),
                        .init("SADD", RedisKeys.connectionIndex, original),
                    ])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            defer { heartbeat.cancel() }
            try await Task.sleep(for: .milliseconds(300))
            try cluster.startScheduler()
            try cluster.startWorker()
            let two = try await eventually(timeout: .seconds(30)) { try await cluster.simulatorStatus().connectedCount == 2 }
            #expect(two)
            try await Task.sleep(for: .seconds(6))
            let status = try await cluster.simulatorStatus()
            #expect(status.connectedCount == 2)
            #expect(status.connects == 2)
        }
    }

    // MARK: helpers

    /// The worker holding the most sessions.
    func busiestWorker(_ cluster: PoolCluster) async -> PoolProcess? {
        guard let states = try? await cluster.connectedStates() else { return nil }
        var counts: [Int32: Int] = [:]
        for state in states.values {
            if let pid = Int32(state.instanceId.split(separator: ":").dropFirst().first ?? "") { counts[pid, default: 0] += 1 }
        }
        let pid = counts.max { $0.value < $1.value }?.key
        return cluster.workers.first { $0.pid == pid }
    }

    /// The instance id a worker process wrote into its states.
    func instances(of worker: PoolProcess, in cluster: PoolCluster) async throws -> String {
        let states = try await cluster.connectedStates()
        return states.values.first { $0.instanceId.split(separator: ":").dropFirst().first == Substring("\(worker.pid)") }?.instanceId ?? ""
    }
}

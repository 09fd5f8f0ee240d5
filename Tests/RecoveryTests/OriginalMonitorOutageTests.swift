import Foundation
import RecoveryCore
import Testing

/// The pool beside the original platform, sharing its Redis keys: the original's monitor (imitated in
/// this process) holds some endpoints, the pool must never connect over them, and when Xiaozhi drops
/// every session both race to reconnect without a duplicate, judged from Xiaozhi's side (the simulator:
/// a duplicate evicts the older session).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct OriginalMonitorOutageTests {
    static let endpointCount = 20
    /// How long the two must stay quiet once every endpoint is back.
    static let quietWindow = Duration.seconds(30)
    /// The pool's `Worker:StableAfterSeconds` here: its sessions are stable by the drop, so it answers
    /// the drop as a production pool would, with a `released` job at once rather than a retry.
    static let stableAfter = Duration.seconds(2)
    /// How long the simulator holds each upgrade while everyone reconnects (one loop thread per half of
    /// the sessions, so the twenty handshakes take about ten times this).
    static let reconnectHandshakeDelayMilliseconds = 200

    /// Endpoint `index` as the original reads it (the cluster seeds the same rows and tokens).
    static func endpoint(_ index: Int, in cluster: PoolCluster) -> OriginalMonitor.Endpoint {
        OriginalMonitor.Endpoint(id: PoolCluster.endpointId(index), name: "endpoint-\(index)", address: cluster.address(token: "token-\(index)"))
    }

    /// Polls the simulator for `duration`; the largest eviction count seen (-1 when it never answered).
    static func watchEvictions(_ cluster: PoolCluster, for duration: Duration) async -> Int {
        var most = -1
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if let status = try? await cluster.simulatorStatus() { most = max(most, status.evictions) }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return most
    }

    /// Ids whose connected state in Redis the pool wrote.
    static func poolHeldIds(_ cluster: PoolCluster) async throws -> Set<EndpointID> {
        Set(try await cluster.connectedStates().filter { $0.value.isWrittenByPool }.keys)
    }

    /// Lines of the workers' logs that contain `text`.
    static func workerLines(_ cluster: PoolCluster, containing text: String) -> Int {
        cluster.workers.map { $0.log.components(separatedBy: text).count - 1 }.reduce(0, +)
    }

    /// Acquires the pool refused over a live session of another owner (the original's).
    static func refusals(_ cluster: PoolCluster) -> Int {
        workerLines(cluster, containing: "has a live session of another owner")
    }

    /// Jobs the pool skipped because another holder had the endpoint (its lock or a live session).
    static func skippedJobs(_ cluster: PoolCluster) -> Int {
        workerLines(cluster, containing: "may be handled by another instance")
    }

    @Test func thePoolAndTheOriginalsMonitorShareTheEndpointsWithoutEvictingEachOther() async throws {
        let cluster = try await PoolCluster(settings: ["Worker__StableAfterSeconds": "\(Self.stableAfter.components.seconds)"])
        var monitor: OriginalMonitor?
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(Self.endpointCount)
            let endpoints = (1...Self.endpointCount).map { Self.endpoint($0, in: cluster) }
            let firstHalf = Array(endpoints.prefix(Self.endpointCount / 2))
            let original = try await OriginalMonitor.start(
                endpoints: firstHalf, redisURL: try #require(cluster.environment["REDIS_URL"]),
                cycleInterval: .seconds(cluster.configuration.checkIntervalSeconds), heartbeatInterval: .seconds(2),
                heartbeatTimeout: .seconds(cluster.configuration.heartbeatTimeoutSeconds))
            monitor = original

            // The original holds half of the endpoints before the pool starts.
            let originalUp = await eventually(timeout: .seconds(20)) {
                (try? await cluster.simulatorStatus().connectedCount) == firstHalf.count && original.openSessionIds.count == firstHalf.count
            }
            #expect(originalUp, "the original's monitor did not connect its half:\n\(original.journal)")

            // The pool starts while the original turns to the other half too: both go for those.
            let poolStarted = ContinuousClock.now
            try cluster.startScheduler()
            try cluster.startWorker()
            try cluster.startWorker()
            original.watch(Array(endpoints.dropFirst(firstHalf.count)))
            let allUp = try await cluster.waitUntilConnected(Self.endpointCount, timeout: .seconds(40))
            let upAfter = ContinuousClock.now - poolStarted
            #expect(allUp, "not every endpoint came up once:\n\(original.journal)\n\(cluster.logs)")
            let beforeDrop = try await cluster.simulatorStatus()
            let originalHeldBeforeDrop = original.openSessionIds
            let poolHeldBeforeDrop = try await Self.poolHeldIds(cluster)
            print("""
                pool started beside the original: all \(Self.endpointCount) up after \(upAfter); original holds \(originalHeldBeforeDrop.count), \
                pool holds \(poolHeldBeforeDrop.count); evictions \(beforeDrop.evictions); pool refusals over the original's sessions \(Self.refusals(cluster)), \
                pool jobs skipped for another holder \(Self.skippedJobs(cluster)); original: \(original.counts)
                """)
            #expect(beforeDrop.evictions == 0, "a session was evicted by a duplicate before the drop:\n\(original.journal)\n\(cluster.logs)")
            #expect(original.counts.sessionsLost == 0, "the original lost a session before the drop:\n\(original.journal)\n\(cluster.logs)")
            #expect(originalHeldBeforeDrop.isSuperset(of: firstHalf.map(\.id)), "the pool took an endpoint the original held:\n\(original.journal)\n\(cluster.logs)")
            #expect(originalHeldBeforeDrop.isDisjoint(with: poolHeldBeforeDrop), "an endpoint has a state of both:\n\(original.journal)\n\(cluster.logs)")

            // Sessions stable (and a monitor cycle or more skipping what is up) before the drop.
            try await Task.sleep(for: Self.stableAfter + .seconds(1))
            let quietBeforeDrop = try await cluster.simulatorStatus()
            let originalBeforeDrop = original.counts
            let refusalsBeforeDrop = Self.refusals(cluster)
            let skippedBeforeDrop = Self.skippedJobs(cluster)
            #expect(quietBeforeDrop.evictions == 0, "a session was evicted by a duplicate before the drop:\n\(original.journal)\n\(cluster.logs)")
            #expect(originalBeforeDrop.sessionsLost == 0, "the original lost a session before the drop:\n\(original.journal)\n\(cluster.logs)")

            // Xiaozhi drops every session at once and is slow to accept the herd of reconnects that
            // follows, which keeps each lease or lock taken for a while with no state written yet; the
            // original's cycle falls right then. Both go for the pool's endpoints (the pool through its
            // `released` jobs) and for the original's (the pool once its scheduler sees them Disconnected).
            try await cluster.setFaults(#"{"handshakeDelayMilliseconds": \#(Self.reconnectHandshakeDelayMilliseconds)}"#)
            let dropped = ContinuousClock.now
            _ = try await cluster.httpRaw("POST", "/faults/drop-all")
            original.cycleNow()
            var raceEvictions = quietBeforeDrop.evictions
            var backAfter: Duration?
            var connectedAtEnd = 0
            while ContinuousClock.now - dropped < .seconds(30) {
                if let status = try? await cluster.simulatorStatus() {
                    raceEvictions = max(raceEvictions, status.evictions)
                    connectedAtEnd = status.connectedCount
                    if status.connectedCount == Self.endpointCount, (try? await cluster.connectedStates().count) == Self.endpointCount {
                        backAfter = ContinuousClock.now - dropped
                        break
                    }
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
            try await cluster.setFaults(#"{"handshakeDelayMilliseconds": 0}"#)
            let evictionsDuringRace = raceEvictions - quietBeforeDrop.evictions
            let neverBack = Self.endpointCount - connectedAtEnd
            #expect(neverBack == 0, "endpoints not back 30 s after the drop:\n\(original.journal)\n\(cluster.logs)")
            #expect(evictionsDuringRace == 0, "sessions evicted by a duplicate while both reconnected:\n\(original.journal)\n\(cluster.logs)")

            // Converged: no eviction war in the time that follows, and every endpoint stays up once.
            let most = await Self.watchEvictions(cluster, for: Self.quietWindow)
            #expect(most >= 0, "the simulator did not answer after convergence:\n\(cluster.logs)")
            let afterConvergence = max(0, most - raceEvictions)
            let final = try await cluster.simulatorStatus()
            let originalFinal = original.counts
            print("""
                drop of every session: all back after \(backAfter.map { "\($0)" } ?? "never (30 s)"); never back \(neverBack); \
                evictions during the race \(evictionsDuringRace); original lost \(originalFinal.sessionsLost - originalBeforeDrop.sessionsLost), \
                reconnected \(originalFinal.connects - originalBeforeDrop.connects), lock waits timed out \(originalFinal.lockWaitsTimedOut - originalBeforeDrop.lockWaitsTimedOut); \
                pool refusals over the original's sessions \(Self.refusals(cluster) - refusalsBeforeDrop), \
                pool jobs skipped for another holder \(Self.skippedJobs(cluster) - skippedBeforeDrop)
                \(Self.quietWindow) after convergence: evictions \(afterConvergence); connected \(final.connectedCount); \
                original holds \(original.openSessionIds.count), pool holds \(try await Self.poolHeldIds(cluster).count); original: \(originalFinal)
                """)
            #expect(afterConvergence == 0, "an eviction war after both converged:\n\(original.journal)\n\(cluster.logs)")
            #expect(final.connectedCount == Self.endpointCount, "endpoints down after convergence:\n\(original.journal)\n\(cluster.logs)")
            #expect(originalFinal.sessionsEvicted == 0, "the original's sessions were evicted by a duplicate:\n\(original.journal)\n\(cluster.logs)")
            for process in [cluster.scheduler].compactMap({ $0 }) + cluster.workers {
                #expect(process.isRunning, "\(process.name) exited:\n\(process.log)")
            }
        } catch {
            Issue.record("original's monitor:\n\(monitor?.journal ?? "")\ncluster logs:\n\(cluster.logs)")
            await monitor?.stop()
            await cluster.shutdown()
            throw error
        }
        await monitor?.stop()
        await cluster.shutdown()
    }
}

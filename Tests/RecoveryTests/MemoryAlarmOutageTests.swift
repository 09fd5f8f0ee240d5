import Foundation
import Testing

/// A RabbitMQ memory alarm under a running pool: the broker blocks every publisher, so no job, result or
/// hand-off can be confirmed while it holds. Judged from Xiaozhi's side (the simulator), where a duplicate
/// session evicts the older one. Raises the alarm on the test broker: run alone, after the other suites.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct MemoryAlarmOutageTests {
    /// Lease TTL of these clusters (the harness's fast settings).
    static let leaseTTL = Duration.seconds(4)
    /// `Recovery:ShutdownGraceSeconds` in the harness's fast settings.
    static let shutdownGrace = Duration.seconds(10)
    /// The publishing connection's confirm timeout (the client's default).
    static let confirmTimeout = Duration.seconds(10)

    @Test func sessionsDroppedUnderAMemoryAlarmComeBackWithoutDuplicatesAndAStoppingWorkerStillExits() async throws {
        let cluster = try await PoolCluster(settings: ["Worker__StableAfterSeconds": "2"])
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(20)
            try cluster.startScheduler()
            // The worker to be stopped holds half of the sessions, so its hand-off has jobs to publish.
            let stopping = try cluster.startWorker(maxSessions: 10)
            #expect(try await cluster.waitUntilConnected(10, timeout: .seconds(40)), "\(cluster.logs)")
            let staying = try cluster.startWorker()
            #expect(try await cluster.waitUntilConnected(20, timeout: .seconds(40)), "\(cluster.logs)")

            // Sessions older than `Worker:StableAfterSeconds`: a loss is recovered with a `released` job.
            try await Task.sleep(for: .seconds(3))
            let evictionsBefore = try await cluster.simulatorStatus().evictions

            // Under the alarm: one worker is told to stop (it must publish its hand-off jobs), then every
            // session is dropped once (the workers must publish `released` jobs). Nothing can be confirmed.
            let alarm = try await BrokerMemoryAlarm.during { _ in
                let raised = ContinuousClock.now
                try await Task.sleep(for: .seconds(1))
                let signalled = ContinuousClock.now
                stopping.send(SIGTERM)
                try await Task.sleep(for: .seconds(1))
                _ = try await cluster.httpRaw("POST", "/faults/drop-all")
                // The stopping worker's exit is awaited for the rest of the alarm only; the wait goes on below.
                let alarmEnd = raised + Self.leaseTTL * 3
                let exitedAt = await stopping.waitForExit(timeout: alarmEnd - ContinuousClock.now).map { _ in ContinuousClock.now }
                if ContinuousClock.now < alarmEnd { try await Task.sleep(until: alarmEnd) }
                let evictions = try await cluster.simulatorStatus().evictions - evictionsBefore
                return (raised: raised, signalled: signalled, exitedAt: exitedAt, evictions: evictions, ended: ContinuousClock.now)
            }
            let evictionsDuring = alarm.evictions
            print("memory alarm held \(ContinuousClock.now - alarm.raised) (until the broker reported it cleared)")

            // Its bound: the shutdown grace, plus one confirm timeout for a hand-off publish begun at its
            // end, plus a margin for closing the connections and the process.
            let shutdownBound = Self.shutdownGrace + Self.confirmTimeout + .seconds(10)
            var exitedAt = alarm.exitedAt
            if exitedAt == nil, await stopping.waitForExit(timeout: shutdownBound - (ContinuousClock.now - alarm.signalled)) != nil {
                exitedAt = ContinuousClock.now
            }
            let shutdownTook = exitedAt.map { $0 - alarm.signalled }

            let allBack = try await cluster.waitUntilConnected(20, timeout: .seconds(60))
            let backAfter = ContinuousClock.now - alarm.ended
            // Settled: nothing evicted in the seconds that follow either.
            try await Task.sleep(for: .seconds(5))
            let status = try await cluster.simulatorStatus()
            let evictionsAfter = status.evictions - evictionsBefore - evictionsDuring
            let unconfirmedReleases = staying.log.components(separatedBy: "could not publish the released job").count - 1
            let unconfirmedHandoffs = stopping.log.components(separatedBy: "could not publish the handoff job").count - 1
            print("""
                memory alarm \(Self.leaseTTL * 3) with a drop of every session: evictions during \(evictionsDuring), \
                after \(evictionsAfter); all 20 back \(backAfter) after the watermark was restored (\(allBack)); \
                stopping worker exited \(shutdownTook.map { "\($0)" } ?? "not at all") after SIGTERM \
                (bound \(shutdownBound)); connected \(status.connectedCount); unconfirmed hand-offs \(unconfirmedHandoffs), \
                unconfirmed released jobs \(unconfirmedReleases)
                """)
            #expect(evictionsDuring == 0, "sessions evicted by a duplicate during the alarm:\n\(cluster.logs)")
            #expect(evictionsAfter == 0, "sessions evicted by a duplicate after the alarm:\n\(cluster.logs)")
            #expect(allBack, "endpoints not all back within 60 s of the alarm clearing:\n\(cluster.logs)")
            #expect(shutdownTook != nil, "the worker did not exit within \(shutdownBound) of SIGTERM:\n\(stopping.log.suffix(6000))")
            // The hand-offs that could not be confirmed are reported with the job's server and the cause.
            #expect(stopping.log.contains("not confirmed: broker did not confirm the publish within"), "\(stopping.log.suffix(4000))")
            for process in [cluster.simulator, cluster.scheduler, staying].compactMap({ $0 }) {
                #expect(process.isRunning, "\(process.name) exited:\n\(process.log.suffix(6000))")
            }
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}

import AMQPClient
import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// The scheduler's rules of SPEC §7, run in-process: the real `Reconciler` over in-memory stores, an
/// in-memory table and a recording bus, on a clock the test moves. No server, so each runs in
/// milliseconds; the end-to-end suites check the same rules across real processes.
@Suite struct SchedulerRulesTests {
    @Test func aMissingEndpointIsEnqueuedOnceWhileItsJobIsPending() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        let first = try await harness.cycle()
        #expect(first.report.enqueued == ["a"])
        let job = try #require(harness.jobs(for: "a").first)
        #expect(job.reason == .missing && job.attempt == 1)
        #expect(try await harness.marker("a") == job.jobId)
        harness.clock.advance(by: .seconds(120))
        let second = try await harness.cycle()
        #expect(second.report.enqueued.isEmpty && second.report.pending == ["a"])
        #expect(harness.jobs(for: "a").count == 1, "a second job for an endpoint whose job is pending")
    }

    @Test func theCooldownSpacesTwoJobsForOneEndpoint() async throws {
        let harness = try SchedulerHarness(settings: ["ConnectionMonitor__ReconnectCooldownSeconds": "60"])
        harness.enable("a")
        try await harness.cycle()
        let first = try #require(harness.jobs(for: "a").first)
        // Its job ended without a session (say `skipped`): the marker goes, the endpoint is still missing.
        try await harness.pool.markers.clearPending(endpointId: "a", ifJob: first.jobId)
        harness.clock.advance(by: .seconds(30))
        let cooling = try await harness.cycle()
        #expect(cooling.report.coolingDown == ["a"] && cooling.report.enqueued.isEmpty)
        harness.clock.advance(by: .seconds(31))
        #expect(try await harness.cycle().report.enqueued == ["a"])
        #expect(harness.jobs(for: "a").count == 2)
    }

    @Test func aLiveSessionIsLeftAloneAndNotEnqueued() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        try await harness.holdSession("a")
        let outcome = try await harness.cycle()
        #expect(outcome.report.live == ["a"] && outcome.report.enqueued.isEmpty)
        #expect(harness.bus.jobs.isEmpty && harness.bus.stops.isEmpty)
    }

    @Test func aSessionWhoseLeaseLapsedIsRecoveredAtTheNextCycle() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        try await harness.holdSession("a", ttl: .seconds(15))
        #expect(try await harness.cycle().report.live == ["a"])
        // The worker died: its lease lapses long before the heartbeat timeout (90 s) would say so.
        harness.clock.advance(by: .seconds(16))
        #expect(try await harness.reconciler.lapsesSinceLastCycle() == 1)
        let outcome = try await harness.cycle()
        #expect(outcome.report.enqueued == ["a"], "report: \(outcome.report.summary)")
        #expect(harness.jobs(for: "a").first?.reason == .stale)
    }

    /// A dead worker's leases lapse in bursts, each starting a cycle: those plan from the enabled endpoints
    /// read less than a check interval ago; regular cycles, and early ones past that age, read Postgres.
    @Test func aCycleStartedByLapsesPlansFromEnabledEndpointsReadLessThanACheckIntervalAgo() async throws {
        let harness = try SchedulerHarness(settings: ["ConnectionMonitor__CheckIntervalSeconds": "1"])
        harness.enable("a")
        #expect(try await harness.cycle().report.enqueued == ["a"])
        #expect(harness.directory.enabledReads == 1)
        harness.enable("b")
        let early = try await harness.reconciler.reconcile(afterLapses: true)
        #expect(harness.directory.enabledReads == 1)
        #expect(early.report.enqueued.isEmpty, "report: \(early.report.summary)")
        #expect(try await harness.cycle().report.enqueued == ["b"])
        #expect(harness.directory.enabledReads == 2)
        try await Task.sleep(for: .milliseconds(1_100))
        harness.enable("c")
        #expect(try await harness.reconciler.reconcile(afterLapses: true).report.enqueued == ["c"])
        #expect(harness.directory.enabledReads == 3)
    }

    @Test func aStateWithAnOldHeartbeatIsDeletedAndItsEndpointRecovered() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        // The lease is held, but nobody has written a heartbeat for longer than the timeout (90 s).
        try await harness.holdSession("a", ttl: .seconds(600), heartbeat: harness.now.addingTimeInterval(-200))
        let outcome = try await harness.cycle()
        #expect(outcome.report.stale == ["a"])
        #expect(try await harness.pool.states.read(endpointId: "a") == .absent)
        #expect(harness.jobs(for: "a").count == 1)
    }

    @Test func theOriginalPlatformsLiveSessionIsNeverEnqueued() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        // The original takes its lock, writes its Connected state without `Owner`, lets go of the lock.
        _ = try await harness.pool.leases.acquire(endpointId: "a", token: "original-lock", ttl: .seconds(10))
        let state = ConnectionState(
            endpointId: "a", instanceId: "api-1", status: .connected, lastHeartbeat: harness.now, endpointName: "a",
            webSocketEndpoint: "wss://xiaozhi.example/mcp/?token=t", owner: nil)
        #expect(try await harness.pool.states.write(state, token: "original-lock"))
        try await harness.pool.leases.release(endpointId: "a", token: "original-lock")
        let outcome = try await harness.cycle()
        #expect(outcome.report.enqueued.isEmpty, "report: \(outcome.report.summary)")
        #expect(harness.bus.jobs.isEmpty)
    }

    @Test func aTransientParkHoldsItsEndpointBackUntilItEnds() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        try await harness.pool.markers.park(ParkedEndpoint(
            endpointId: "a", reason: "refused", kind: .transient, parkedAt: harness.now, until: harness.now.addingTimeInterval(100)))
        let parked = try await harness.cycle()
        #expect(parked.report.parked == ["a"] && parked.report.enqueued.isEmpty)
        harness.clock.advance(by: .seconds(101))
        #expect(try await harness.cycle().report.enqueued == ["a"])
        #expect(try await harness.pool.markers.parkedEndpoints()["a"] == nil)
    }

    @Test func aPermanentParkEndsWhenItsRowChanges() async throws {
        let harness = try SchedulerHarness()
        let edited = Date(timeIntervalSince1970: 1_700_000_000)
        harness.enable("a", updatedAt: edited)
        try await harness.pool.markers.park(ParkedEndpoint(
            endpointId: "a", reason: "HTTP 401", kind: .permanent, parkedAt: harness.now, endpointUpdatedAt: edited))
        harness.clock.advance(by: .seconds(100_000))
        #expect(try await harness.cycle().report.parked == ["a"], "a permanent park lapsed with time")
        harness.directory.update("a") { $0.updatedAt = edited.addingTimeInterval(60) }
        #expect(try await harness.cycle().report.enqueued == ["a"])
    }

    @Test func aDisabledEndpointsSessionIsStoppedOnItsWorker() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        try await harness.holdSession("a", by: "worker-7")
        harness.bus.listen("worker-7")
        try await harness.cycle()
        harness.directory.update("a") { $0.isEnabled = false }
        try await harness.cycle()
        let stop = try #require(harness.bus.stops.first)
        #expect(harness.bus.stops.count == 1)
        #expect(stop.endpointId == "a" && stop.instanceId == "worker-7" && stop.command == .stop)
        #expect(harness.bus.jobs.isEmpty)
    }

    @Test func aJobTheBrokerDidNotConfirmLeavesNoMarkerAndIsPublishedAgain() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        harness.bus.answer(.nacked)
        #expect(try await harness.cycle().report.enqueued.isEmpty)
        #expect(try await harness.marker("a") == nil, "a marker without its job holds the endpoint back")
        harness.bus.answer(.confirmed)
        #expect(try await harness.cycle().report.enqueued == ["a"], "no cooldown starts for a job never published")
    }

    @Test func aMarkerNamingAJobNoQueueHoldsIsReplacedOnceTheQueuesAreIdle() async throws {
        let harness = try SchedulerHarness()
        harness.enable("a")
        #expect(try await harness.pool.markers.markPending(endpointId: "a", jobId: "purged-job", ttl: .seconds(900)))
        #expect(try await harness.cycle().report.enqueued.isEmpty, "a marker was judged lost while jobs may be queued")
        harness.queues.set(idle: true)
        #expect(try await harness.cycle().report.enqueued == ["a"])
        let job = try #require(harness.jobs(for: "a").first)
        #expect(try await harness.marker("a") == job.jobId)
    }

    @Test func theClusterSaysWhenEnabledEndpointsExceedItsSlots() async throws {
        let harness = try SchedulerHarness()
        for id: EndpointID in ["a", "b", "c"] { harness.enable(id) }
        try await harness.registerWorker("worker-1", capacity: 2)
        let capacity = try #require(try await harness.cycle().report.capacity)
        #expect(capacity.workers == 1 && capacity.enabled == 3 && capacity.shortfall == 1)
        #expect(try await harness.pool.operatorView.lastCycle()?.capacity?.shortfall == 1)
    }
}

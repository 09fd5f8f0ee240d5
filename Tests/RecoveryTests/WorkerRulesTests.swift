import Foundation
@testable import RecoveryCore
import Testing
import Transport
import WebSocket
@testable import Recovery

/// The worker's rules of SPEC §7, each on one worker runtime in this process (`WorkerHarness`): in-memory
/// stores on a moved clock, an in-memory broker, an opener the test holds or fails, and an in-process
/// Xiaozhi peer that counts live sessions. No Redis, Postgres or RabbitMQ.
@Suite struct WorkerRulesTests {
    @Test func aJobOpensOneSessionCommitsItsStateAndSettlesWithOneResultThenAnAck() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        let job = try await worker.job("a")
        let tag = worker.deliver(job)

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.inbox.settlements(of: tag) == [.acked])
        #expect(worker.bus.results.map(\.outcome) == [.recovered])
        #expect(worker.bus.results.first?.jobId == job.jobId)
        #expect(worker.peer.live("t-a") == 1)
        let state = try await worker.state("a")
        #expect(state?.instanceId == WorkerHarness.instanceId)
        #expect(state?.status == .connected)
        #expect(await worker.held("a") != nil)
    }

    @Test func aWorkerRecordsEachJobItReceivesSoAJobPassedOverShows() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.enable("b")
        let passedOver = try await worker.job("b")
        let tag = worker.deliver(try await worker.job("a"))

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        // The receipt runs beside the attempt: wait for it rather than race it.
        let receiptSeen = (try? await worker.waitFor("the receipt", within: .seconds(5)) {
            try await !worker.pool.arrivals.unreceived(slack: .zero, limit: 10, expiry: .seconds(600)).isEmpty
        }) != nil
        let unreceived = try await worker.pool.arrivals.unreceived(slack: .zero, limit: 10, expiry: .seconds(600))
        #expect(receiptSeen && unreceived.map(\.jobId) == [passedOver.jobId])
    }

    @Test func aFullWorkerGivesTheJobBackAsANewMessageAndOpensNothingForIt() async throws {
        let worker = try await WorkerHarness(settings: ["Worker__MaxSessions": "1"])
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.enable("b")
        let jobs = [try await worker.job("a"), try await worker.job("b")]
        let tags = jobs.map { worker.deliver($0) }

        try await worker.waitFor("both deliveries to be settled") { tags.allSatisfy { !worker.inbox.settlements(of: $0).isEmpty } }
        #expect(tags.map { worker.inbox.settlements(of: $0) } == [[.acked], [.acked]])
        // One of the two holds the only slot; the other went back to the queue, nothing was lost.
        let results = worker.bus.results
        #expect(results.map(\.outcome) == [.recovered])
        let givenBack = worker.bus.jobs
        #expect(givenBack.count == 1)
        #expect(Set(results.map(\.endpointId) + givenBack.map(\.endpointId)) == ["a", "b"])
        let other = givenBack.first?.endpointId ?? ""
        #expect(worker.peer.opened("t-\(other)") == 0)
        #expect(await worker.held(other) == nil)
    }

    @Test func aRedeliveryWhileTheFirstAttemptConnectsOpensNoSecondSession() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.opener.hold.store(true, ordering: .relaxed)
        let job = try await worker.job("a")
        let first = worker.deliver(job)
        try await worker.waitFor("the first attempt to connect") { worker.opener.opens.load(ordering: .relaxed) == 1 }

        // The broker hands the same job out again (its first consumer looked dead) while the first connects.
        let second = worker.deliver(job, redelivered: true)
        try await worker.waitFor("the redelivery to be settled") { !worker.inbox.settlements(of: second).isEmpty }
        #expect(worker.inbox.settlements(of: second) == [.acked])
        #expect(worker.bus.jobs.map(\.endpointId) == ["a"])

        worker.opener.hold.store(false, ordering: .relaxed)
        try await worker.waitFor("the first attempt to be settled") { !worker.inbox.settlements(of: first).isEmpty }
        #expect(worker.inbox.settlements(of: first) == [.acked])
        #expect(worker.bus.results.map(\.outcome) == [.recovered])

        // The given-back copy comes round again: settled by the session held here, not opened twice.
        let third = worker.deliver(worker.bus.jobs[0])
        try await worker.waitFor("the given-back copy to be settled") { !worker.inbox.settlements(of: third).isEmpty }
        #expect(worker.inbox.settlements(of: third) == [.acked])
        #expect(worker.bus.results.map(\.outcome) == [.recovered, .skipped])
        #expect(worker.opener.opens.load(ordering: .relaxed) == 1)
        #expect(worker.peer.opened("t-a") == 1)
        #expect(worker.peer.live("t-a") == 1)
    }

    @Test func aResultTheBrokerRefusesSendsTheDeliveryBackAndKeepsTheSession() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.bus.refuseResults.store(true, ordering: .relaxed)
        let job = try await worker.job("a")
        let first = worker.deliver(job)

        try await worker.waitFor("the delivery to go back") { !worker.inbox.settlements(of: first).isEmpty }
        #expect(worker.inbox.settlements(of: first) == [.nacked(requeue: true)])
        #expect(worker.bus.results.isEmpty)
        #expect(await worker.held("a") != nil)
        #expect(worker.peer.live("t-a") == 1)

        // The broker's redelivery is settled by the session already held: still one session, one result.
        worker.bus.refuseResults.store(false, ordering: .relaxed)
        let again = worker.deliver(job, redelivered: true)
        try await worker.waitFor("the redelivery to be settled") { !worker.inbox.settlements(of: again).isEmpty }
        #expect(worker.inbox.settlements(of: again) == [.acked])
        #expect(worker.bus.results.map(\.jobId) == [job.jobId])
        #expect(worker.peer.opened("t-a") == 1)
    }

    @Test func aStateWriteTheStoreRefusesClosesTheSessionItOpened() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.faults.commitsRefused.store(true, ordering: .relaxed)
        let tag = worker.deliver(try await worker.job("a"))

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.inbox.settlements(of: tag) == [.acked])
        // Refused means another holder has the lease: this session must not stay beside its.
        #expect(worker.bus.results.map(\.outcome) == [.skipped])
        try await worker.waitFor("the session to be closed") { worker.peer.live("t-a") == 0 }
        #expect(await worker.held("a") == nil)
        #expect(try await worker.state("a") == nil)
    }

    @Test func aStopThatArrivesWhileTheSessionOpensClosesItOnceItIsUp() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.opener.hold.store(true, ordering: .relaxed)
        let tag = worker.deliver(try await worker.job("a"))
        try await worker.waitFor("the attempt to connect") { worker.opener.opens.load(ordering: .relaxed) == 1 }

        worker.stop("a")
        // The stop is taken off the control queue before the connect goes on.
        try await worker.waitFor("the stop to be consumed") { await worker.runtime.keeper.stopRequested("a") }
        worker.opener.hold.store(false, ordering: .relaxed)

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.inbox.settlements(of: tag) == [.acked])
        #expect(worker.bus.results.map(\.outcome) == [.stopped])
        try await worker.waitFor("the session to be closed") { worker.peer.live("t-a") == 0 }
        #expect(await worker.held("a") == nil)
        #expect(try await worker.state("a") == nil)
        // Its lease is released, not left to lapse; and no job brings a stopped endpoint back.
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "next", ttl: .seconds(5)) != nil)
        #expect(worker.bus.jobs.isEmpty)
    }

    @Test func aShutdownWhileASessionOpensLosesNoJobAndLeavesNoSession() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        try await worker.holdSession("b")
        worker.opener.hold.store(true, ordering: .relaxed)
        let tag = worker.deliver(try await worker.job("a"))
        try await worker.waitFor("a's attempt to connect") { worker.opener.opens.load(ordering: .relaxed) == 2 }

        try await worker.shutdown()
        // The opening job went back (requeued, or published again then acked) or failed into a retry.
        let settlement = worker.inbox.settlements(of: tag)
        let republished = worker.bus.jobs.contains { $0.endpointId == "a" } || worker.bus.retries.contains { $0.endpointId == "a" }
        #expect(settlement == [.nacked(requeue: true)] || (settlement == [.acked] && republished), "\(settlement)")
        #expect(worker.peer.opened("t-a") == 0)
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "next", ttl: .seconds(5)) != nil)
        // The held session was handed off: closed, released, and a hand-off job published for it.
        try await worker.waitFor("b's session to be closed") { worker.peer.live("t-b") == 0 }
        #expect(worker.bus.jobs.filter { $0.endpointId == "b" }.map(\.reason) == [.handoff])
        #expect(try await worker.state("b") == nil)
    }

    @Test func aHandOffWhoseReleaseRedisDoesNotAnswerPublishesNoJobAndLeavesTheLeaseToLapse() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        try await worker.holdSession("a")
        worker.faults.releasesFail.store(true, ordering: .relaxed)

        try await worker.shutdown()
        try await worker.waitFor("a's session to be closed") { worker.peer.live("t-a") == 0 }
        // No worker could take a job before the lease lapses; the scheduler queues the endpoint then.
        #expect(worker.bus.jobs.isEmpty, "\(worker.bus.jobs)")
        #expect(try await worker.marker("a") == nil, "no pending marker without its job")
        #expect(worker.leaseHeld("a"))
    }

    @Test func aLeaseThatLapsedUnclaimedIsTakenAgainAndTheSessionKept() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        try await worker.holdSession("a")

        let fence = try #require(try await worker.state("a")?.fence)

        // Redis lost the lease (a flush, a failover): nobody else claimed it.
        worker.clock.advance(by: worker.configuration.leaseTiming.ttl + .seconds(1))
        #expect(!worker.leaseHeld("a"))
        try await worker.waitFor("the lease to be taken again") { worker.leaseHeld("a") }
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "another", ttl: .seconds(5)) == nil)
        // The state is rewritten under the new fence, and the session's heartbeats carry it too.
        try await worker.waitFor("the state under the new fence") { (try await worker.state("a")?.fence ?? 0) > fence }
        #expect(await worker.held("a")?.fence == (try await worker.state("a")?.fence))
        #expect(try await worker.state("a")?.instanceId == WorkerHarness.instanceId)
        #expect(await worker.held("a") != nil)
        #expect(worker.peer.live("t-a") == 1)
        #expect(worker.peer.opened("t-a") == 1)
    }

    @Test func aLeaseAnotherHolderTookClosesTheSessionAndTouchesNothingOfTheirs() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        try await worker.holdSession("a")

        worker.leaseTakenByAnother("a")
        try await worker.waitFor("the session to be closed") { worker.peer.live("t-a") == 0 }
        #expect(await worker.held("a") == nil)
        // The other holder's lease stands, and no job is published against it.
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "third", ttl: .seconds(5)) == nil)
        #expect(try await worker.pool.leases.release(endpointId: "a", token: "another-holder"))
        #expect(worker.bus.jobs.isEmpty)
    }

    @Test func renewalsThatGoUnconfirmedPastTheLocalDeadlineCloseTheSessionByItself() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        try await worker.holdSession("a")

        // Redis stops answering renewals; the store's clock stands still, so the lease is still there.
        worker.faults.renewalsFail.store(true, ordering: .relaxed)
        try await worker.waitFor("the session to be closed") { worker.peer.live("t-a") == 0 }
        #expect(await worker.held("a") == nil)
        // Its state and lease are released (only this holder's), and a `released` job brings it back.
        try await worker.waitFor("the released job") { worker.bus.jobs.map(\.reason) == [.released] }
        #expect(try await worker.state("a") == nil)
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "next", ttl: .seconds(5)) != nil)
    }

    @Test func aPermanentHandshakeRefusalIsDeadLetteredAtOnceAndParksTheEndpoint() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        let edited = Date(timeIntervalSince1970: 1_790_000_000)
        worker.enable("a", updatedAt: edited)
        worker.peer.set("t-a", .refuse(status: 401))
        let tag = worker.deliver(try await worker.job("a"))

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.inbox.settlements(of: tag) == [.acked])
        #expect(worker.bus.results.map(\.outcome) == [.dead])
        #expect(worker.bus.dead.map(\.reason) == [.permanent])
        #expect(worker.bus.retries.isEmpty)
        let park = try #require(try await worker.pool.markers.parkedEndpoints()["a"])
        #expect(park.endpointUpdatedAt == edited)
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "next", ttl: .seconds(5)) != nil)
    }

    @Test func aTransientFailureIsRetriedWithTheNextAttemptAndItsMarkerKept() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        // Nothing listens there: the connect is refused.
        worker.enable("a", address: "ws://127.0.0.1:1/mcp/?token=t-a")
        let job = try await worker.job("a")
        let tag = worker.deliver(job)

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.inbox.settlements(of: tag) == [.acked])
        #expect(worker.bus.results.map(\.outcome) == [.retrying])
        let retry = try #require(worker.bus.retries.first)
        #expect(retry.attempt == 2)
        #expect(worker.bus.dead.isEmpty)
        // The marker names the retry now, so the scheduler does not queue the endpoint beside it.
        #expect(try await worker.marker("a") == retry.jobId)
    }

    @Test func aSessionThatClosesSoonAfterOpeningIsAFailedAttemptNotAnInstantReconnect() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.peer.set("t-a", .closeAfterHello(WebSocketCloseCode(1011)))
        let tag = worker.deliver(try await worker.job("a"))

        // The retry is published before the delivery is acked.
        try await worker.waitFor("the failed attempt's retry and ack") { !worker.bus.retries.isEmpty && !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.inbox.settlements(of: tag) == [.acked])
        #expect(worker.bus.retries.map(\.attempt) == [2])
        #expect(worker.bus.jobs.isEmpty, "a released job would reconnect at once")
        #expect(await worker.held("a") == nil)

        // The same close on a later attempt, with 1008 (Xiaozhi's answer to a rejected token): dead-lettered
        // and parked, not retried for ever.
        worker.peer.set("t-a", .closeAfterHello(.policyViolation))
        let again = worker.deliver(worker.bus.retries[0])
        try await worker.waitFor("the dead letter and ack") { !worker.bus.dead.isEmpty && !worker.inbox.settlements(of: again).isEmpty }
        #expect(worker.inbox.settlements(of: again) == [.acked])
        #expect(worker.bus.dead.map(\.reason) == [.permanent])
        #expect(worker.bus.retries.count == 1)
        #expect(try await worker.pool.markers.parkedEndpoints()["a"] != nil)
    }

    @Test func aLiveSessionOfTheOriginalPlatformIsNotConnectedOver() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        // The original takes its lock, writes its Connected state (no `Owner`), and lets the lock go.
        let theirs = ConnectionState(
            endpointId: "a", instanceId: "original-monitor", status: .connected, lastConnectedTime: worker.clock.now(),
            lastHeartbeat: worker.clock.now(), endpointName: "name-a", webSocketEndpoint: "wss://xiaozhi.example/mcp/", owner: nil)
        _ = try await worker.pool.leases.acquire(endpointId: "a", token: "lock", ttl: .seconds(10))
        #expect(try await worker.pool.states.write(theirs, token: "lock"))
        #expect(try await worker.pool.leases.release(endpointId: "a", token: "lock"))
        let tag = worker.deliver(try await worker.job("a"))

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.inbox.settlements(of: tag) == [.acked])
        #expect(worker.bus.results.map(\.outcome) == [.skipped])
        #expect(worker.opener.opens.load(ordering: .relaxed) == 0)
        #expect(try await worker.state("a")?.instanceId == "original-monitor")
    }

    @Test func aWorkerWhoseRenewalsComeLateTakesNoJobsUntilTheyAreOnTimeAndKeepsItsSessions() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.enable("b")
        let first = worker.deliver(try await worker.job("a"))
        try await worker.waitFor("a to be recovered") { !worker.inbox.settlements(of: first).isEmpty }
        #expect(worker.peer.live("t-a") == 1)

        // Renewals confirmed 0.6 s late: past a quarter of the 1.7 s the 3 s leases allow, short of all of it.
        worker.faults.renewalDelayMilliseconds.store(600, ordering: .relaxed)
        try await worker.waitFor("the consumer to stop") { !worker.inbox.isConsuming(worker.jobsQueue) }
        let second = worker.deliver(try await worker.job("b"))
        try await Task.sleep(for: .seconds(1))
        #expect(worker.inbox.settlements(of: second).isEmpty)
        #expect(worker.peer.live("t-b") == 0)
        #expect(worker.peer.live("t-a") == 1)

        // On time again: after a calm round the waiting job is taken.
        worker.faults.renewalDelayMilliseconds.store(0, ordering: .relaxed)
        try await worker.waitFor("b to be recovered") { !worker.inbox.settlements(of: second).isEmpty }
        #expect(worker.inbox.settlements(of: second) == [.acked])
        #expect(worker.peer.live("t-b") == 1)
        #expect(worker.peer.live("t-a") == 1)
    }

    @Test func aJobAlreadyDeliveredToAWorkerThatShedsIsGivenBackBeforeItsLease() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        // Shedding began while this delivery was on its way: the consumer has not seen it yet.
        worker.runtime.sheddingJobs.store(true, ordering: .relaxed)
        let job = try await worker.job("a")
        let tag = worker.deliver(job)

        try await worker.expectGivenBack(tag, job)
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "probe", ttl: .seconds(3), foreignHeartbeatTimeout: nil).fence != nil)
    }

    @Test func aWorkerRedisDoesNotAnswerGivesTheJobBackAndTakesNoMoreUntilItDoes() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.faults.silent.store(true, ordering: .relaxed)
        let job = try await worker.job("a")
        let tag = worker.deliver(job)

        try await worker.expectGivenBack(tag, job)
        try await worker.waitFor("the consumer to pause") { !worker.inbox.isConsuming(worker.jobsQueue) }

        // Redis answers again: the given-back job is taken and recovers.
        worker.faults.silent.store(false, ordering: .relaxed)
        let again = worker.deliver(worker.bus.jobs[0])
        try await worker.waitFor("the job to be settled") { !worker.inbox.settlements(of: again).isEmpty }
        #expect(worker.bus.results.map(\.outcome) == [.recovered])
        #expect(worker.peer.live("t-a") == 1)
    }

    @Test func aWorkerWhoseRedisTakesTheCheckButNeverAnswersGivesTheJobBackAtTheStartTimeout() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.faults.unanswered.store(true, ordering: .relaxed)
        defer { worker.faults.unanswered.store(false, ordering: .relaxed) }
        let job = try await worker.job("a")
        let tag = worker.deliver(job)

        // The check's deadline (half the 3 s lease TTL) ends the wait, while Redis still has not answered.
        try await worker.expectGivenBack(tag, job)
        let stillUnanswered = worker.faults.unanswered.load(ordering: .relaxed)
        #expect(stillUnanswered)
    }

    @Test func aDisabledEndpointsJobReleasesTheLeaseAndOpensNothing() async throws {
        let worker = try await WorkerHarness()
        defer { Task { await worker.close() } }
        worker.enable("a")
        worker.directory.update("a") { $0.isEnabled = false }
        let tag = worker.deliver(try await worker.job("a"))

        try await worker.waitFor("the delivery to be settled") { !worker.inbox.settlements(of: tag).isEmpty }
        #expect(worker.bus.results.map(\.outcome) == [.stopped])
        #expect(worker.opener.opens.load(ordering: .relaxed) == 0)
        #expect(try await worker.pool.leases.acquire(endpointId: "a", token: "next", ttl: .seconds(5)) != nil)
        #expect(try await worker.marker("a") == nil)
    }
}

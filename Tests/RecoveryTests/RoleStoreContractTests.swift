import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// The rules of the pool's keyspace (SPEC §5, §7), asserted through the role protocols of both
/// implementations: the Redis stores on the test server and the in-memory ones the server-free tests use.
/// A rule one of them breaks fails here under its backend's name.
@Suite struct RoleStoreContractTests {
    private func newId() -> EndpointID { EndpointID("contract-" + UUID().uuidString.lowercased()) }

    private func state(_ id: EndpointID, heartbeat: Date = Date(), status: ConnectionStatus = .connected, owner: String? = ConnectionState.poolOwner) -> ConnectionState {
        ConnectionState(
            endpointId: id, instanceId: "worker-a", status: status, lastHeartbeat: heartbeat, endpointName: "n",
            webSocketEndpoint: "wss://h/mcp/?token=secret-token", owner: owner)
    }

    private func raw(_ reading: StateReading) -> String? {
        if case .decoded(_, let raw) = reading { return raw }
        return nil
    }

    // MARK: leases

    @Test(arguments: StoreBackend.allCases) func aLeaseHasOneHolderAndAGrowingFence(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let id = newId()
        #expect(try await store.leases.acquire(endpointId: id, token: "a", ttl: .seconds(10)) == 1)
        #expect(try await store.leases.acquire(endpointId: id, token: "b", ttl: .seconds(10)) == nil)
        #expect(try await store.leases.acquire(endpointId: id, token: "a", ttl: .seconds(10)) == nil, "a holder took its own lease twice")
        #expect(try await store.leases.release(endpointId: id, token: "b") == false)
        #expect(try await store.leases.release(endpointId: id, token: "a") == true)
        #expect(try await store.leases.acquire(endpointId: id, token: "b", ttl: .seconds(10)) == 2)
    }

    @Test(arguments: StoreBackend.allCases) func aLapsedLeaseGoesToTheNextTakerAndItsOldHolderCanNoLongerWrite(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let id = newId()
        #expect(try await store.leases.acquire(endpointId: id, token: "old", ttl: .milliseconds(300)) == 1)
        #expect(try await store.states.write(state(id), token: "old"))
        try await store.pass(.milliseconds(500))
        #expect(try await store.leases.acquire(endpointId: id, token: "new", ttl: .seconds(10)) == 2)
        #expect(try await store.leases.renew([id: "old"], ttl: .seconds(10)) == [id])
        #expect(try await store.states.write(state(id), token: "old") == false)
        #expect(try await store.states.releaseSession(endpointId: id, token: "old") == false)
        #expect(try await store.leases.release(endpointId: id, token: "old") == false)
        #expect(try await store.leases.renew([id: "new"], ttl: .seconds(10)).isEmpty)
    }

    @Test(arguments: StoreBackend.allCases) func batchRenewalReportsTheLeasesThatAreGone(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let held = newId(), stolen = newId(), absent = newId()
        _ = try await store.leases.acquire(endpointId: held, token: "t1", ttl: .seconds(10))
        _ = try await store.leases.acquire(endpointId: stolen, token: "other", ttl: .seconds(10))
        let lost = try await store.leases.renew([held: "t1", stolen: "t2", absent: "t3"], ttl: .seconds(20))
        #expect(lost == [stolen, absent])
    }

    @Test(arguments: StoreBackend.allCases) func aRenewedLeaseOutlivesItsFirstTTL(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .milliseconds(400))
        try await store.pass(.milliseconds(200))
        #expect(try await store.leases.renew([id: "t"], ttl: .seconds(10)).isEmpty)
        try await store.pass(.milliseconds(400))
        #expect(try await store.leases.acquire(endpointId: id, token: "other", ttl: .seconds(10)) == nil, "a renewed lease lapsed")
    }

    @Test(arguments: StoreBackend.allCases) func aLiveSessionOfTheOriginalRefusesTheLeaseUntilItsHeartbeatIsOld(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let live = newId(), old = newId(), disconnected = newId(), ours = newId()
        // The original takes its lock, writes its state without `Owner`, and lets go of the lock.
        for (id, written) in [
            (live, state(live, owner: nil)), (old, state(old, heartbeat: Date().addingTimeInterval(-120), owner: nil)),
            (disconnected, state(disconnected, status: .disconnected, owner: nil)), (ours, state(ours)),
        ] {
            _ = try await store.leases.acquire(endpointId: id, token: "lock", ttl: .seconds(10))
            #expect(try await store.states.write(written, token: "lock"))
            #expect(try await store.leases.release(endpointId: id, token: "lock"))
        }
        let timeout = Duration.seconds(90)
        #expect(try await store.leases.acquire(endpointId: live, token: "pool", ttl: .seconds(10), foreignHeartbeatTimeout: timeout) == .foreignSessionLive)
        #expect(try await store.leases.acquire(endpointId: old, token: "pool", ttl: .seconds(10), foreignHeartbeatTimeout: timeout).fence != nil)
        #expect(try await store.leases.acquire(endpointId: disconnected, token: "pool", ttl: .seconds(10), foreignHeartbeatTimeout: timeout).fence != nil)
        #expect(try await store.leases.acquire(endpointId: ours, token: "pool", ttl: .seconds(10), foreignHeartbeatTimeout: timeout).fence != nil)
        // Without the timeout the state is not looked at; taken again, the refusal holds too.
        #expect(try await store.leases.reacquire([live: "pool"], ttl: .seconds(10), foreignHeartbeatTimeout: timeout).fences.isEmpty)
        #expect(try await store.leases.acquire(endpointId: live, token: "pool", ttl: .seconds(10)) != nil)
    }

    @Test(arguments: StoreBackend.allCases) func lapsedLeasesAreTakenAgainExceptThoseSomeoneElseHolds(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let lapsed = newId(), taken = newId()
        _ = try await store.leases.acquire(endpointId: taken, token: "other", ttl: .seconds(10))
        let (fences, replicated) = try await store.leases.reacquire([lapsed: "mine", taken: "mine"], ttl: .seconds(10))
        #expect(Set(fences.keys) == [lapsed])
        #expect(replicated)
        #expect(try await store.states.write(state(lapsed), token: "mine"))
    }

    // MARK: states

    @Test(arguments: StoreBackend.allCases) func aStateIsWrittenUnderItsLeaseAndReleasedWithIt(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let id = newId()
        #expect(try await store.states.write(state(id), token: "nobody") == false)
        #expect(try await store.states.read(endpointId: id) == .absent)
        _ = try await store.leases.acquire(endpointId: id, token: "holder", ttl: .seconds(10))
        #expect(try await store.states.write(state(id), token: "intruder") == false)
        #expect(try await store.states.write(state(id), token: "holder") == true)
        let stored = try #require(raw(try await store.states.read(endpointId: id)))
        #expect(!stored.contains("secret-token"))
        #expect(!stored.contains("holder"))
        #expect(try await store.states.releaseSession(endpointId: id, token: "intruder") == false)
        #expect(try await store.states.releaseSession(endpointId: id, token: "holder") == true)
        #expect(try await store.states.read(endpointId: id) == .absent)
        // The lease went in the same step: the holder's next heartbeat cannot bring the state back.
        #expect(try await store.states.write([StateWrite(endpointId: id, value: state(id).encoded(), token: "holder")]) == [id])
        #expect(try await store.states.read(endpointId: id) == .absent)
        #expect(try await store.leases.acquire(endpointId: id, token: "next", ttl: .seconds(10)) != nil)
    }

    @Test(arguments: StoreBackend.allCases) func batchHeartbeatsSkipStatesWhoseLeaseIsNotHeld(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let mine = newId(), theirs = newId()
        _ = try await store.leases.acquire(endpointId: mine, token: "me", ttl: .seconds(10))
        let refused = try await store.states.write([(state(mine), "me"), (state(theirs), "me")])
        #expect(refused == [theirs])
        #expect(try await store.states.read(endpointId: theirs) == .absent)
        #expect(raw(try await store.states.read(endpointId: mine)) != nil)
    }

    @Test(arguments: StoreBackend.allCases) func aRecoveredJobCommitsItsStateClearsItsMarkerAndEndsThePark(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let id = newId()
        #expect(try await store.markers.markPending(endpointId: id, jobId: "job-1", ttl: .seconds(60)))
        try await store.markers.park(ParkedEndpoint(endpointId: id, reason: "refused", kind: .transient, parkedAt: Date()))
        try await store.markers.recordAttempts(endpointIds: [id], at: Date())
        _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(10))
        #expect(try await store.states.commitRecovered(state(id), token: "t", jobId: "job-1"))
        let after = try await store.observe([id])
        #expect(after.pending[id] == nil)
        #expect(after.parked[id] == nil)
        #expect(after.lastAttempts[id] == nil)
        #expect(after.observations[id]?.indexed == true)
    }

    @Test(arguments: StoreBackend.allCases) func aCommitWithoutTheLeaseWritesNothingKeepsTheParkAndANewerJobsMarker(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let lost = newId(), newer = newId()
        for id in [lost, newer] {
            try await store.markers.park(ParkedEndpoint(endpointId: id, reason: "refused", kind: .transient, parkedAt: Date()))
        }
        #expect(try await store.markers.markPending(endpointId: lost, jobId: "job-1", ttl: .seconds(60)))
        #expect(try await store.markers.markPending(endpointId: newer, jobId: "job-2", ttl: .seconds(60)))
        #expect(try await store.states.commitRecovered(state(lost), token: "gone", jobId: "job-1") == false)
        _ = try await store.leases.acquire(endpointId: newer, token: "t", ttl: .seconds(10))
        #expect(try await store.states.commitRecovered(state(newer), token: "t", jobId: "job-1"))
        let after = try await store.observe([lost, newer])
        #expect(after.observations[lost] == nil)
        #expect(after.pending[lost] == nil, "the job's own marker outlived it")
        #expect(after.parked[lost] != nil)
        #expect(after.pending[newer] == "job-2")
        #expect(after.parked[newer] == nil)
    }

    @Test(arguments: StoreBackend.allCases) func aSettlementFollowsItsDispositionAndLeavesANewerJobsMarker(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let dead = newId(), done = newId(), newer = newId()
        for id in [dead, done] { #expect(try await store.markers.markPending(endpointId: id, jobId: "job-\(id)", ttl: .seconds(60))) }
        #expect(try await store.markers.markPending(endpointId: newer, jobId: "job-later", ttl: .seconds(60)))
        try await store.markers.park(ParkedEndpoint(endpointId: done, reason: "old", kind: .transient, parkedAt: Date()))
        let park = ParkedEndpoint(endpointId: dead, reason: "refused", kind: .permanent, parkedAt: Date())
        try await store.states.settle(ResultDisposition(clearPending: true, park: park), endpointId: dead, jobId: "job-\(dead)")
        try await store.states.settle(ResultDisposition(clearPending: true, clearPark: true), endpointId: done, jobId: "job-\(done)")
        try await store.states.settle(ResultDisposition(clearPending: true), endpointId: newer, jobId: "job-earlier")
        let after = try await store.observe([dead, done, newer])
        #expect(after.pending[dead] == nil && after.pending[done] == nil)
        #expect(after.parked[dead]?.kind == .permanent)
        #expect(after.parked[done] == nil)
        #expect(after.pending[newer] == "job-later")
    }

    @Test(arguments: StoreBackend.allCases) func aSettlementOnlyWhilePendingAppliesOnlyWhileTheMarkerNamesTheJob(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let current = newId(), superseded = newId()
        #expect(try await store.markers.markPending(endpointId: current, jobId: "job-1", ttl: .seconds(60)))
        #expect(try await store.markers.markPending(endpointId: superseded, jobId: "job-2", ttl: .seconds(60)))
        for id in [current, superseded] {
            let park = ParkedEndpoint(endpointId: id, reason: "dead-lettered by the broker", kind: .transient, parkedAt: Date())
            try await store.states.settle(ResultDisposition(clearPending: true, park: park, onlyWhilePending: true), endpointId: id, jobId: "job-1")
        }
        let after = try await store.observe([current, superseded])
        #expect(after.pending[current] == nil && after.parked[current]?.reason == "dead-lettered by the broker")
        #expect(after.pending[superseded] == "job-2" && after.parked[superseded] == nil)
    }

    // MARK: markers

    @Test(arguments: StoreBackend.allCases) func aPendingMarkerIsSetOnceAndClearedOnlyByItsJob(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let busy = newId(), free = newId(), refreshed = newId()
        #expect(try await store.markers.markPending(endpointId: busy, jobId: "earlier", ttl: .seconds(10)))
        #expect(try await store.markers.markPending([(busy, "job-a"), (free, "job-b")], ttl: .seconds(10)) == [free])
        try await store.markers.clearPending(endpointId: busy, ifJob: "job-a")
        #expect(try await store.observe([busy]).pending[busy] == "earlier")
        try await store.markers.clearPending(endpointId: busy, ifJob: "earlier")
        #expect(try await store.observe([busy]).pending[busy] == nil)
        try await store.markers.refreshPending(endpointId: free, jobId: "job-c", ttl: .seconds(10))
        #expect(try await store.observe([free]).pending[free] == "job-c")
        _ = try await store.markers.markPending(endpointId: refreshed, jobId: "short", ttl: .milliseconds(300))
        try await store.pass(.milliseconds(500))
        #expect(try await store.markers.markPending(endpointId: refreshed, jobId: "next", ttl: .seconds(10)), "a lapsed marker held the endpoint back")
        try await store.markers.clearPending(endpointIds: [free, refreshed])
        let cleared = try await store.observe([free, refreshed]).pending
        #expect(cleared[free] == nil && cleared[refreshed] == nil)
    }

    @Test(arguments: StoreBackend.allCases) func aJobTheQueuePassedOverIsFoundAndOnlyItsOwnMarkerForgotten(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let passedOver = newId(), replaced = newId(), received = newId(), delayed = newId()
        let job = { (id: EndpointID) in "job-" + id.rawValue }
        #expect(try await store.markers.markPending([(passedOver, job(passedOver)), (replaced, job(replaced))], ttl: .seconds(60)).count == 2)
        try await store.markers.refreshPending(endpointId: delayed, jobId: job(delayed), ttl: .seconds(60), entersQueueAfter: .seconds(60))
        try await store.pass(.milliseconds(300))
        _ = try await store.markers.markPending(endpointId: received, jobId: job(received), ttl: .seconds(60))
        try await store.arrivals.received(RecoveryJob(jobId: job(received), endpointId: received, reason: .missing, enqueuedAt: Date()))

        // Entered well before the job received, never received themselves: passed over. The received job
        // and the retry that enters the queue only in a minute are not.
        let ours: Set<EndpointID> = [passedOver, replaced, received, delayed]
        let unreceived = try await store.arrivals.unreceived(slack: .milliseconds(100), limit: 10_000, expiry: .seconds(600)).filter { ours.contains($0.endpointId) }
        #expect(Set(unreceived.map(\.endpointId)) == [passedOver, replaced])
        #expect(unreceived.allSatisfy { $0.jobId == job($0.endpointId) })

        // A marker a newer job took meanwhile survives forgetting the old job.
        try await store.markers.refreshPending(endpointId: replaced, jobId: "newer", ttl: .seconds(60))
        try await store.arrivals.forget(unreceived)
        let markers = try await store.observe([passedOver, replaced]).pending
        #expect(markers[passedOver] == nil)
        #expect(markers[replaced] == "newer")
        let left = try await store.arrivals.unreceived(slack: .milliseconds(100), limit: 10_000, expiry: .seconds(600)).filter { ours.contains($0.endpointId) }
        #expect(left.isEmpty, "forgotten entries came back: \(left)")
        try await store.arrivals.forget([QueuedJob(endpointId: delayed, jobId: job(delayed)), QueuedJob(endpointId: replaced, jobId: "newer")])
    }

    @Test(arguments: StoreBackend.allCases) func queuedEntriesOlderThanTheExpiryAreDroppedWhileNothingIsReceived(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let expired = newId(), newer = newId()
        let job = { (id: EndpointID) in "job-" + id.rawValue }
        _ = try await store.markers.markPending(endpointId: expired, jobId: job(expired), ttl: .seconds(60))
        try await store.pass(.milliseconds(300))
        _ = try await store.arrivals.unreceived(slack: .milliseconds(100), limit: 10_000, expiry: .milliseconds(200))
        _ = try await store.markers.markPending(endpointId: newer, jobId: job(newer), ttl: .seconds(60))
        try await store.arrivals.received(RecoveryJob(jobId: job(newer), endpointId: newer, reason: .missing, enqueuedAt: Date()))
        // `expired` entered 300 ms before the job received: it would be passed over had it not been dropped.
        let left = try await store.arrivals.unreceived(slack: .milliseconds(100), limit: 10_000, expiry: .seconds(600))
        #expect(!left.contains { $0.endpointId == expired }, "an entry past its expiry was kept")
        try await store.markers.clearPending(endpointIds: [expired, newer])
    }

    @Test(arguments: StoreBackend.allCases) func parksAndCooldownClocksAreKeptUntilEnded(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let a = newId(), b = newId()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.markers.park(ParkedEndpoint(endpointId: a, reason: "refused", kind: .permanent, parkedAt: at))
        try await store.markers.recordAttempts(endpointIds: [a, b], at: at)
        #expect(try await store.markers.parkedEndpoints()[a]?.reason == "refused")
        let recorded = try await store.observe([a, b]).lastAttempts
        #expect(recorded[a] == at && recorded[b] == at)
        #expect(try await store.markers.unpark(endpointIds: [a, b]) == 1)
        try await store.markers.clearAttempts(endpointIds: [a])
        let after = try await store.observe([a, b])
        #expect(after.parked[a] == nil)
        #expect(after.lastAttempts[a] == nil && after.lastAttempts[b] == at)
    }

    // MARK: reconcile reads

    @Test(arguments: StoreBackend.allCases) func theIndexVouchesForHeldSessionsUntilTheirLeaseLapses(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let held = newId(), lapsing = newId()
        _ = try await store.leases.acquire(endpointId: held, token: "t", ttl: .seconds(30))
        _ = try await store.leases.acquire(endpointId: lapsing, token: "t", ttl: .milliseconds(300))
        #expect(try await store.states.write([(state(held), "t"), (state(lapsing), "t")]).isEmpty)
        let enabled = [held, lapsing].map { EnabledEndpoint(id: $0, name: $0.rawValue, updatedAt: nil) }
        var cache = HeldSessionsCache()
        let first = try await store.reconcile.observe(enabled: enabled, cache: &cache, fullRead: false)
        #expect(first.scope.held.vouchesFor(held) && first.scope.held.vouchesFor(lapsing))
        #expect(!first.scope.idsToRead.contains(held))
        try await store.pass(.milliseconds(500))
        let second = try await store.reconcile.observe(enabled: enabled, cache: &cache, fullRead: false)
        #expect(second.scope.held.vouchesFor(held))
        #expect(!second.scope.held.vouchesFor(lapsing))
        #expect(second.scope.idsToRead.contains(lapsing))
        #expect(second.observations[lapsing]?.leaseHeld == false)
        let lapses = try await store.reconcile.lapsesSince(serverTime: first.serverTime)
        #expect(lapses.count >= 1 && lapses.serverTime >= second.serverTime)
        #expect(try await store.reconcile.forgetLapsedSessions([held, lapsing]) == 1)
        let third = try await store.reconcile.observe(enabled: enabled, cache: &cache, fullRead: false)
        #expect(!third.scope.held.contains(lapsing))
    }

    @Test(arguments: StoreBackend.allCases) func staleStatesAreDeletedExceptThoseRewrittenSinceTheRead(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let stale = newId(), rewritten = newId()
        var judged: [StaleState] = []
        for id in [stale, rewritten] {
            _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(10))
            #expect(try await store.states.write(state(id), token: "t"))
            let stored = try #require(raw(try await store.states.read(endpointId: id)))
            judged.append(StaleState(endpointId: id, reason: .heartbeatExpired, storedValue: stored))
        }
        #expect(try await store.states.write(state(rewritten, heartbeat: Date().addingTimeInterval(5)), token: "t"))
        #expect(try await store.reconcile.deleteStaleStates(judged) == [stale])
        #expect(try await store.states.read(endpointId: stale) == .absent)
        #expect(raw(try await store.states.read(endpointId: rewritten)) != nil, "the rewritten state was deleted")
        let observed = try await store.observe([stale, rewritten])
        #expect(observed.observations[stale]?.indexed != true)
        #expect(observed.observations[rewritten]?.indexed == true)
    }

    // MARK: leader, workers, operator

    @Test(arguments: StoreBackend.allCases) func onlyOneSchedulerLeadsUntilItsLeaseLapses(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        // No scheduler runs on the test servers' default database (the end-to-end suites use their own).
        let a = "leader-a-" + UUID().uuidString, b = "leader-b-" + UUID().uuidString
        #expect(try await store.leader.hold(token: a, ttl: .seconds(5)))
        #expect(try await store.leader.hold(token: b, ttl: .seconds(5)) == false)
        #expect(try await store.leader.hold(token: a, ttl: .milliseconds(300)))
        try await store.leader.release(token: b)
        #expect(try await store.leader.hold(token: b, ttl: .seconds(5)) == false, "a release by another token ended the lease")
        try await store.pass(.milliseconds(500))
        #expect(try await store.leader.hold(token: b, ttl: .seconds(5)))
        try await store.leader.release(token: b)
        #expect(try await store.leader.hold(token: a, ttl: .seconds(5)))
        try await store.leader.release(token: a)
    }

    @Test(arguments: StoreBackend.allCases) func aWorkerWhoseLivenessLapsedIsForgottenAndALiveOneIsNot(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let gone = "contract-gone-" + UUID().uuidString, live = "contract-live-" + UUID().uuidString
        for (id, ttl) in [(gone, Duration.milliseconds(300)), (live, .seconds(30))] {
            let record = WorkerRecord(instanceId: id, host: "h", pid: 1, startedAt: Date(), heartbeatAt: Date(), sessions: 3, capacity: 10)
            try await store.workers.record(record, ttl: ttl)
        }
        #expect(try await store.workers.registry().liveness[gone] == true)
        try await store.pass(.milliseconds(500))
        let registry = try await store.workers.registry()
        #expect(registry.liveness[gone] == false && registry.liveness[live] == true)
        #expect(registry.records[live]?.sessions == 3)
        #expect(try await store.workers.forget([gone, live]) == 1)
        try await store.workers.remove(instanceId: live)
        let after = try await store.workers.registry()
        #expect(after.liveness[gone] == nil && after.liveness[live] == nil)
    }

    @Test(arguments: StoreBackend.allCases) func aManualRetryUndoneBringsTheParkBackAndDropsItsMarker(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let parked = newId(), other = newId()
        try await store.markers.park(ParkedEndpoint(endpointId: parked, reason: "refused", kind: .permanent, parkedAt: Date()))
        let jobs = [parked, other].map { RecoveryJob(jobId: "retry-\($0)", endpointId: $0, reason: .missing, enqueuedAt: Date()) }
        let previous = try await store.operatorView.prepareManualRetry(jobs: jobs, pendingTtl: .seconds(60))
        #expect(Set(previous.keys) == [parked])
        let prepared = try await store.operatorView.statusReadings(endpointIds: [parked, other])
        #expect(prepared.parked[parked] == nil)
        let marked = try await store.observe([parked, other]).pending
        #expect(marked[parked] == "retry-\(parked)" && marked[other] == "retry-\(other)")
        try await store.operatorView.undoManualRetry(jobs: jobs, previousParks: previous)
        #expect(try await store.operatorView.statusReadings(endpointIds: [parked]).parked[parked]?.reason == "refused")
        let undone = try await store.observe([parked, other]).pending
        #expect(undone[parked] == nil && undone[other] == nil)
    }

    @Test(arguments: StoreBackend.allCases) func theLastCycleReadsBackAsWritten(_ backend: StoreBackend) async throws {
        let store = try await RoleStores.make(backend)
        let summary = CycleSummary(at: Date(timeIntervalSince1970: 1_800_000_000), milliseconds: 42, counts: ["connected": 7], capacity: nil)
        try await store.operatorView.recordLastCycle(summary)
        let read = try #require(try await store.operatorView.lastCycle())
        #expect(read.milliseconds == 42 && read.counts["connected"] == 7)
    }
}

import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// The lease and state protocol against the real Redis of the test servers.
@Suite struct RedisPoolStateTests {
    let store: RedisPoolState

    init() async throws {
        store = RedisPoolState(redis: try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL")))
    }

    private func newId() -> String { "test-" + UUID().uuidString.lowercased() }

    private func state(_ id: String, heartbeat: Date = Date()) -> ConnectionState {
        ConnectionState(serverId: id, instanceId: "worker-a", status: .connected, lastHeartbeat: heartbeat, serverName: "n", webSocketEndpoint: "wss://h/mcp/?token=secret-token")
    }

    /// A full read of `ids` with a fresh copy of the held-sessions index.
    private func observe(_ ids: [String]) async throws -> RedisObservation {
        var cache = HeldSessionsCache()
        return try await store.reconcile.observe(enabled: ids.map { EnabledEndpoint(id: $0, name: $0, updatedAt: nil) }, cache: &cache, fullRead: true)
    }

    @Test func aLeaseHasOneHolderAndAGrowingFence() async throws {
        let id = newId()
        let first = try await store.leases.acquire(serverId: id, token: "a", ttl: .seconds(10))
        #expect(first == 1)
        #expect(try await store.leases.acquire(serverId: id, token: "b", ttl: .seconds(10)) == nil)
        #expect(try await store.leases.release(serverId: id, token: "b") == false)
        #expect(try await store.leases.release(serverId: id, token: "a") == true)
        #expect(try await store.leases.acquire(serverId: id, token: "b", ttl: .seconds(10)) == 2)
    }

    @Test func aLeaseNoReplicaAcknowledgesIsReleasedAndTheAcquireFails() async throws {
        // The test Redis has no replica: a WAIT for one times out.
        let waiting = RedisPoolState(redis: store.redis, acquireReplicas: 1, acquireReplicaTimeout: .milliseconds(50))
        let id = newId()
        await #expect(throws: RedisStateError.self) {
            _ = try await waiting.leases.acquire(serverId: id, token: "a", ttl: .seconds(10), foreignHeartbeatTimeout: nil)
        }
        #expect(try await store.redis.get(RedisKeys.lease(id)) == nil, "the unacknowledged lease was kept")
        #expect(try await store.leases.acquire(serverId: id, token: "b", ttl: .seconds(10)) != nil)
    }

    @Test func aStateWriteWithoutTheLeaseFails() async throws {
        let id = newId()
        #expect(try await store.states.write(state(id), token: "nobody") == false)
        #expect(try await store.states.read(serverId: id) == .absent)
        _ = try await store.leases.acquire(serverId: id, token: "holder", ttl: .seconds(10))
        #expect(try await store.states.write(state(id), token: "intruder") == false)
        #expect(try await store.states.write(state(id), token: "holder") == true)
        guard case .decoded(let stored, let raw) = try await store.states.read(serverId: id) else {
            Issue.record("state not written")
            return
        }
        #expect(stored.serverId == id)
        #expect(!raw.contains("secret-token"))
        #expect(!raw.contains("holder"))
        #expect(try await store.states.delete(serverId: id, token: "intruder") == false)
        #expect(try await store.states.delete(serverId: id, token: "holder") == true)
        #expect(try await store.states.read(serverId: id) == .absent)
    }

    @Test func batchRenewalReportsTheLeasesThatAreGone() async throws {
        let held = newId(), stolen = newId(), absent = newId()
        _ = try await store.leases.acquire(serverId: held, token: "t1", ttl: .seconds(10))
        _ = try await store.leases.acquire(serverId: stolen, token: "other", ttl: .seconds(10))
        let lost = try await store.leases.renew([held: "t1", stolen: "t2", absent: "t3"], ttl: .seconds(20))
        #expect(lost == [stolen, absent])
    }

    @Test func batchHeartbeatsSkipStatesWhoseLeaseIsNotHeld() async throws {
        let mine = newId(), theirs = newId()
        _ = try await store.leases.acquire(serverId: mine, token: "me", ttl: .seconds(10))
        let refused = try await store.states.write([(state(mine), "me"), (state(theirs), "me")])
        #expect(refused == [theirs])
        #expect(try await store.states.read(serverId: theirs) == .absent)
    }

    @Test func observeSeesStatesLeasesAndPendingMarkers() async throws {
        let live = newId(), pending = newId(), missing = newId()
        _ = try await store.leases.acquire(serverId: live, token: "x", ttl: .seconds(10))
        _ = try await store.states.write(state(live), token: "x")
        #expect(try await store.markers.markPending(serverId: pending, jobId: "job-1", ttl: .seconds(10)))
        #expect(try await store.markers.markPending(serverId: pending, jobId: "job-2", ttl: .seconds(10)) == false)
        let observed = try await observe([live, pending, missing])
        #expect(observed.observations[live]?.leaseHeld == true)
        #expect(observed.observations[live]?.indexed == true)
        #expect(observed.observations[missing] == nil)
        #expect(observed.pending[pending] == "job-1")
        #expect(observed.pending[live] == nil)
        try await store.markers.clearPending(serverId: pending, ifJob: "job-2")
        #expect(try await observe([pending]).pending[pending] == "job-1")
        try await store.markers.clearPending(serverId: pending, ifJob: "job-1")
        #expect(try await observe([pending]).pending.isEmpty)
    }

    @Test func pendingMarkersAreSetInOneBatchExceptWhereAJobIsPending() async throws {
        let busy = newId(), free = newId()
        #expect(try await store.markers.markPending(serverId: busy, jobId: "earlier", ttl: .seconds(10)))
        _ = try await store.redis.send("SCRIPT", "FLUSH")
        let marked = try await store.markers.markPending([(busy, "job-a"), (free, "job-b")], ttl: .seconds(10))
        #expect(marked == [free])
        #expect(try await store.redis.get(RedisKeys.pending(busy)) == Array("earlier".utf8))
        #expect(try await store.redis.get(RedisKeys.pending(free)) == Array("job-b".utf8))
    }

    @Test func staleStatesAreDeletedInOneBatchExceptThoseRewrittenSinceTheRead() async throws {
        let stale = newId(), rewritten = newId()
        var judged: [StaleState] = []
        for id in [stale, rewritten] {
            _ = try await store.leases.acquire(serverId: id, token: "t", ttl: .seconds(10))
            #expect(try await store.states.write(state(id), token: "t"))
            guard case .decoded(_, let raw) = try await store.states.read(serverId: id) else {
                Issue.record("state of \(id) not written")
                return
            }
            judged.append(StaleState(serverId: id, reason: .heartbeatExpired, storedValue: raw))
        }
        #expect(try await store.states.write(state(rewritten, heartbeat: Date().addingTimeInterval(5)), token: "t"))
        _ = try await store.redis.send("SCRIPT", "FLUSH")
        #expect(try await store.reconcile.deleteStaleStates(judged) == [stale])
        #expect(try await store.states.read(serverId: stale) == .absent)
        guard case .decoded = try await store.states.read(serverId: rewritten) else {
            Issue.record("the rewritten state was deleted")
            return
        }
        _ = try await store.states.delete(serverId: rewritten, token: "t")
    }

    @Test func onlyOneSchedulerLeads() async throws {
        // No scheduler runs on the test servers' default database (the end-to-end suites use their own).
        let a = "leader-a-" + UUID().uuidString, b = "leader-b-" + UUID().uuidString
        #expect(try await store.leader.hold(token: a, ttl: .seconds(5)))
        #expect(try await store.leader.hold(token: b, ttl: .seconds(5)) == false)
        #expect(try await store.leader.hold(token: a, ttl: .seconds(5)))
        try await store.leader.release(token: a)
        #expect(try await store.leader.hold(token: b, ttl: .seconds(5)))
        try await store.leader.release(token: b)
    }
}

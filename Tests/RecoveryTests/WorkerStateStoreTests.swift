import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// The worker's batched state writes (one script settles a recovered job, one pipeline settles any
/// other, one pipeline re-takes lapsed leases), against the real Redis of the test servers.
@Suite struct WorkerStateStoreTests {
    let store: RedisPoolState

    init() async throws {
        store = RedisPoolState(redis: try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL")))
    }

    private func newId() -> EndpointID { EndpointID("test-" + UUID().uuidString.lowercased()) }

    private func state(_ id: EndpointID) -> ConnectionState {
        ConnectionState(endpointId: id, instanceId: "worker-a", status: .connected, lastHeartbeat: Date(), endpointName: "n", webSocketEndpoint: "wss://h/mcp/?token=secret-token")
    }

    private func park(_ id: EndpointID) -> ParkedEndpoint {
        ParkedEndpoint(endpointId: id, reason: "refused", kind: .transient, parkedAt: Date(), until: Date().addingTimeInterval(600), endpointUpdatedAt: nil)
    }

    private func pendingMarker(_ id: EndpointID) async throws -> String? {
        try await store.redis.get(RedisKeys.pending(id)).map { String(decoding: $0, as: UTF8.self) }
    }

    private func lastAttempt(_ id: EndpointID) async throws -> Bool {
        try await store.redis.send("HEXISTS", RedisKeys.lastAttempt, id).integer == 1
    }

    private func indexed(_ id: EndpointID) async throws -> Bool {
        try await store.redis.send("SISMEMBER", RedisKeys.connectionIndex, id).integer == 1
    }

    private func held(_ id: EndpointID) async throws -> Bool {
        !(try await store.redis.send("ZSCORE", RedisKeys.heldSessions, id).isNull)
    }

    @Test func aRecoveredJobIsCommittedInOneRoundTrip() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "holder", ttl: .seconds(10))
        #expect(try await store.markers.markPending(endpointId: id, jobId: "job-1", ttl: .seconds(10)))
        try await store.markers.park(park(id))
        try await store.markers.recordAttempts(endpointIds: [id], at: Date())

        #expect(try await store.states.commitRecovered(state(id), token: "holder", jobId: "job-1"))

        guard case .decoded(let stored, _) = try await store.states.read(endpointId: id) else {
            Issue.record("state not written")
            return
        }
        #expect(stored.endpointId == id)
        #expect(try await indexed(id))
        #expect(try await held(id))
        #expect(try await pendingMarker(id) == nil)
        #expect(try await store.markers.parkedEndpoints()[id] == nil)
        #expect(try await lastAttempt(id) == false)
        #expect(try await store.states.releaseSession(endpointId: id, token: "holder"))
    }

    @Test func aCommitKeepsTheMarkerOfANewerJob() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "holder", ttl: .seconds(10))
        try await store.markers.refreshPending(endpointId: id, jobId: "job-2", ttl: .seconds(10))
        #expect(try await store.states.commitRecovered(state(id), token: "holder", jobId: "job-1"))
        #expect(try await pendingMarker(id) == "job-2")
        #expect(try await store.states.releaseSession(endpointId: id, token: "holder"))
    }

    @Test func aCommitWithoutTheLeaseWritesNothingButClearsItsMarker() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "other", ttl: .seconds(10))
        #expect(try await store.markers.markPending(endpointId: id, jobId: "job-1", ttl: .seconds(10)))
        try await store.markers.park(park(id))
        try await store.markers.recordAttempts(endpointIds: [id], at: Date())

        #expect(try await store.states.commitRecovered(state(id), token: "intruder", jobId: "job-1") == false)

        #expect(try await store.states.read(endpointId: id) == .absent)
        #expect(try await indexed(id) == false)
        #expect(try await held(id) == false)
        #expect(try await pendingMarker(id) == nil)
        #expect(try await store.markers.parkedEndpoints()[id] != nil)
        #expect(try await lastAttempt(id))
        try await store.markers.unpark(endpointIds: [id])
        try await store.markers.clearAttempts(endpointIds: [id])
    }

    @Test func settlementCommandsFollowTheDisposition() throws {
        let id: EndpointID = "server-1"
        let parked = park(id)
        #expect(RedisSessionStates.settlementCommands(ResultDisposition(), endpointId: id, jobId: "j").isEmpty)
        #expect(RedisSessionStates.settlementCommands(ResultDisposition(refreshPending: true), endpointId: id, jobId: "j").isEmpty)

        let skipped = RedisSessionStates.settlementCommands(ResultDisposition(clearPending: true), endpointId: id, jobId: "j")
        #expect(skipped == [RedisCommand("EVALSHA", arguments: [PoolScripts.clearPendingIfJob.sha1, 1, RedisKeys.pending(id), "j"])])

        let dead = RedisSessionStates.settlementCommands(ResultDisposition(clearPending: true, park: parked), endpointId: id, jobId: "j")
        #expect(dead.map(\.name) == ["EVALSHA", "HSET"])
        #expect(dead.last == RedisCommand("HSET", RedisKeys.parked, id, parked.encoded()))

        let recovered = RedisSessionStates.settlementCommands(ResultDisposition(clearPending: true, clearPark: true), endpointId: id, jobId: "j")
        #expect(recovered.map(\.name) == ["EVALSHA", "HDEL", "HDEL"])
        #expect(recovered[1] == RedisCommand("HDEL", RedisKeys.parked, id))
        #expect(recovered[2] == RedisCommand("HDEL", RedisKeys.lastAttempt, id))
    }

    @Test func aDeadJobIsSettledInOnePipeline() async throws {
        let id = newId()
        #expect(try await store.markers.markPending(endpointId: id, jobId: "job-1", ttl: .seconds(10)))
        try await store.states.settle(ResultDisposition(clearPending: true, park: park(id)), endpointId: id, jobId: "job-1")
        #expect(try await pendingMarker(id) == nil)
        #expect(try await store.markers.parkedEndpoints()[id]?.reason == "refused")
        try await store.markers.unpark(endpointIds: [id])
    }

    @Test func aSettlementLeavesANewerJobsMarker() async throws {
        let id = newId()
        try await store.markers.refreshPending(endpointId: id, jobId: "job-2", ttl: .seconds(10))
        try await store.states.settle(ResultDisposition(clearPending: true), endpointId: id, jobId: "job-1")
        #expect(try await pendingMarker(id) == "job-2")
    }

    @Test func lapsedLeasesAreTakenAgainInOnePipeline() async throws {
        let lapsed = newId(), stolen = newId()
        _ = try await store.leases.acquire(endpointId: stolen, token: "other", ttl: .seconds(10))
        let (fences, replicated) = try await store.leases.reacquire([lapsed: "mine", stolen: "mine"], ttl: .seconds(10))
        #expect(replicated, "no replica asked for")
        #expect(fences[lapsed] != nil)
        #expect(fences[stolen] == nil)
        #expect(try await store.leases.renew([lapsed: "mine"], ttl: .seconds(10)).isEmpty)
        #expect(try await store.leases.release(endpointId: lapsed, token: "mine"))
        #expect(try await store.leases.reacquire([:], ttl: .seconds(10)).fences.isEmpty)
    }

    @Test func leasesTakenAgainWithoutTheAskedReplicasAreTakenButNotReplicated() async throws {
        let waiting = RedisPoolState(redis: store.redis, acquireReplicas: 1)
        let lapsed = newId()
        // The test Redis has no replica: WAIT answers 0 after its timeout.
        let (fences, replicated) = try await waiting.leases.reacquire([lapsed: "mine"], ttl: .seconds(10))
        #expect(fences[lapsed] != nil)
        #expect(!replicated)
        #expect(try await store.leases.release(endpointId: lapsed, token: "mine"))
    }
}

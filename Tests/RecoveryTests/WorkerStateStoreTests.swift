import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// The worker's batched state writes (one script settles a recovered job, one pipeline settles any
/// other, one pipeline re-takes lapsed leases), against the real Redis of the test servers.
@Suite struct WorkerStateStoreTests {
    let store: SessionStateStore

    init() async throws {
        store = SessionStateStore(redis: try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL")))
    }

    private func newId() -> String { "test-" + UUID().uuidString.lowercased() }

    private func state(_ id: String) -> ConnectionState {
        ConnectionState(serverId: id, instanceId: "worker-a", status: .connected, lastHeartbeat: Date(), serverName: "n", webSocketEndpoint: "wss://h/mcp/?token=secret-token")
    }

    private func park(_ id: String) -> ParkedEndpoint {
        ParkedEndpoint(serverId: id, reason: "refused", kind: .transient, parkedAt: Date(), until: Date().addingTimeInterval(600), endpointUpdatedAt: nil)
    }

    private func pendingMarker(_ id: String) async throws -> String? {
        try await store.redis.get(RedisKeys.pending(id)).map { String(decoding: $0, as: UTF8.self) }
    }

    private func lastAttempt(_ id: String) async throws -> Bool {
        try await store.redis.send("HEXISTS", RedisKeys.lastAttempt, id).integer == 1
    }

    private func indexed(_ id: String) async throws -> Bool {
        try await store.redis.send("SISMEMBER", RedisKeys.connectionIndex, id).integer == 1
    }

    private func held(_ id: String) async throws -> Bool {
        !(try await store.redis.send("ZSCORE", RedisKeys.heldSessions, id).isNull)
    }

    @Test func aRecoveredJobIsCommittedInOneRoundTrip() async throws {
        let id = newId()
        _ = try await store.acquireLease(serverId: id, token: "holder", ttl: .seconds(10))
        #expect(try await store.markPending(serverId: id, jobId: "job-1", ttl: .seconds(10)))
        try await store.park(park(id))
        try await store.recordAttempts(serverIds: [id], at: Date())

        #expect(try await store.commitRecovered(state(id), token: "holder", jobId: "job-1"))

        guard case .decoded(let stored, _) = try await store.state(serverId: id) else {
            Issue.record("state not written")
            return
        }
        #expect(stored.serverId == id)
        #expect(try await indexed(id))
        #expect(try await held(id))
        #expect(try await pendingMarker(id) == nil)
        #expect(try await store.parkedEndpoints()[id] == nil)
        #expect(try await lastAttempt(id) == false)
        #expect(try await store.deleteState(serverId: id, token: "holder"))
    }

    @Test func aCommitKeepsTheMarkerOfANewerJob() async throws {
        let id = newId()
        _ = try await store.acquireLease(serverId: id, token: "holder", ttl: .seconds(10))
        try await store.refreshPending(serverId: id, jobId: "job-2", ttl: .seconds(10))
        #expect(try await store.commitRecovered(state(id), token: "holder", jobId: "job-1"))
        #expect(try await pendingMarker(id) == "job-2")
        #expect(try await store.deleteState(serverId: id, token: "holder"))
    }

    @Test func aCommitWithoutTheLeaseWritesNothingButClearsItsMarker() async throws {
        let id = newId()
        _ = try await store.acquireLease(serverId: id, token: "other", ttl: .seconds(10))
        #expect(try await store.markPending(serverId: id, jobId: "job-1", ttl: .seconds(10)))
        try await store.park(park(id))
        try await store.recordAttempts(serverIds: [id], at: Date())

        #expect(try await store.commitRecovered(state(id), token: "intruder", jobId: "job-1") == false)

        #expect(try await store.state(serverId: id) == .absent)
        #expect(try await indexed(id) == false)
        #expect(try await held(id) == false)
        #expect(try await pendingMarker(id) == nil)
        #expect(try await store.parkedEndpoints()[id] != nil)
        #expect(try await lastAttempt(id))
        try await store.unpark(serverIds: [id])
        try await store.clearAttempts(serverIds: [id])
    }

    @Test func settlementCommandsFollowTheDisposition() throws {
        let id = "server-1"
        let parked = park(id)
        #expect(SessionStateStore.settlementCommands(ResultDisposition(), serverId: id, jobId: "j").isEmpty)
        #expect(SessionStateStore.settlementCommands(ResultDisposition(refreshPending: true), serverId: id, jobId: "j").isEmpty)

        let skipped = SessionStateStore.settlementCommands(ResultDisposition(clearPending: true), serverId: id, jobId: "j")
        #expect(skipped == [RedisCommand("EVALSHA", arguments: [SessionStateStore.clearPendingIfJob.sha1, 1, RedisKeys.pending(id), "j"])])

        let dead = SessionStateStore.settlementCommands(ResultDisposition(clearPending: true, park: parked), serverId: id, jobId: "j")
        #expect(dead.map(\.name) == ["EVALSHA", "HSET"])
        #expect(dead.last == RedisCommand("HSET", RedisKeys.parked, id, parked.encoded()))

        let recovered = SessionStateStore.settlementCommands(ResultDisposition(clearPending: true, clearPark: true), serverId: id, jobId: "j")
        #expect(recovered.map(\.name) == ["EVALSHA", "HDEL", "HDEL"])
        #expect(recovered[1] == RedisCommand("HDEL", RedisKeys.parked, id))
        #expect(recovered[2] == RedisCommand("HDEL", RedisKeys.lastAttempt, id))
    }

    @Test func aDeadJobIsSettledInOnePipeline() async throws {
        let id = newId()
        #expect(try await store.markPending(serverId: id, jobId: "job-1", ttl: .seconds(10)))
        try await store.settle(ResultDisposition(clearPending: true, park: park(id)), serverId: id, jobId: "job-1")
        #expect(try await pendingMarker(id) == nil)
        #expect(try await store.parkedEndpoints()[id]?.reason == "refused")
        try await store.unpark(serverIds: [id])
    }

    @Test func aSettlementLeavesANewerJobsMarker() async throws {
        let id = newId()
        try await store.refreshPending(serverId: id, jobId: "job-2", ttl: .seconds(10))
        try await store.settle(ResultDisposition(clearPending: true), serverId: id, jobId: "job-1")
        #expect(try await pendingMarker(id) == "job-2")
    }

    @Test func lapsedLeasesAreTakenAgainInOnePipeline() async throws {
        let lapsed = newId(), stolen = newId()
        _ = try await store.acquireLease(serverId: stolen, token: "other", ttl: .seconds(10))
        let (fences, replicated) = try await store.reacquireLeases([lapsed: "mine", stolen: "mine"], ttl: .seconds(10))
        #expect(replicated, "no replica asked for")
        #expect(fences[lapsed] != nil)
        #expect(fences[stolen] == nil)
        #expect(try await store.renewLeases([lapsed: "mine"], ttl: .seconds(10)).isEmpty)
        #expect(try await store.releaseLease(serverId: lapsed, token: "mine"))
        #expect(try await store.reacquireLeases([:], ttl: .seconds(10)).fences.isEmpty)
    }

    @Test func leasesTakenAgainWithoutTheAskedReplicasAreTakenButNotReplicated() async throws {
        var waiting = store
        waiting.acquireReplicas = 1
        let lapsed = newId()
        // The test Redis has no replica: WAIT answers 0 after its timeout.
        let (fences, replicated) = try await waiting.reacquireLeases([lapsed: "mine"], ttl: .seconds(10))
        #expect(fences[lapsed] != nil)
        #expect(!replicated)
        #expect(try await store.releaseLease(serverId: lapsed, token: "mine"))
    }
}

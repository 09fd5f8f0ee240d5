import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// What only the Redis role stores do, on the test servers' Redis: replica acknowledgements, and scripts
/// loaded again after the server forgot them (the rules both implementations keep: `RoleStoreContractTests`).
@Suite struct RedisPoolStateTests {
    let store: RedisPoolState

    init() async throws {
        store = RedisPoolState(redis: try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL")))
    }

    private func newId() -> EndpointID { EndpointID("test-" + UUID().uuidString.lowercased()) }

    private func state(_ id: EndpointID, heartbeat: Date = Date()) -> ConnectionState {
        ConnectionState(endpointId: id, instanceId: "worker-a", status: .connected, lastHeartbeat: heartbeat, endpointName: "n", webSocketEndpoint: "wss://h/mcp/?token=secret-token")
    }

    @Test func aLeaseNoReplicaAcknowledgesIsReleasedAndTheAcquireFails() async throws {
        // The test Redis has no replica: a WAIT for one times out.
        let waiting = RedisPoolState(redis: store.redis, acquireReplicas: 1, acquireReplicaTimeout: .milliseconds(50))
        let id = newId()
        await #expect(throws: RedisStateError.self) {
            _ = try await waiting.leases.acquire(endpointId: id, token: "a", ttl: .seconds(10), foreignHeartbeatTimeout: nil)
        }
        #expect(try await store.redis.get(RedisKeys.lease(id)) == nil, "the unacknowledged lease was kept")
        #expect(try await store.leases.acquire(endpointId: id, token: "b", ttl: .seconds(10)) != nil)
    }

    @Test func pendingMarkersAreSetInOneBatchExceptWhereAJobIsPending() async throws {
        let busy = newId(), free = newId()
        #expect(try await store.markers.markPending(endpointId: busy, jobId: "earlier", ttl: .seconds(10)))
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
            _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(10))
            #expect(try await store.states.write(state(id), token: "t"))
            guard case .decoded(_, let raw) = try await store.states.read(endpointId: id) else {
                Issue.record("state of \(id) not written")
                return
            }
            judged.append(StaleState(endpointId: id, reason: .heartbeatExpired, storedValue: raw))
        }
        #expect(try await store.states.write(state(rewritten, heartbeat: Date().addingTimeInterval(5)), token: "t"))
        _ = try await store.redis.send("SCRIPT", "FLUSH")
        #expect(try await store.reconcile.deleteStaleStates(judged) == [stale])
        #expect(try await store.states.read(endpointId: stale) == .absent)
        guard case .decoded = try await store.states.read(endpointId: rewritten) else {
            Issue.record("the rewritten state was deleted")
            return
        }
        _ = try await store.states.releaseSession(endpointId: rewritten, token: "t")
    }

}

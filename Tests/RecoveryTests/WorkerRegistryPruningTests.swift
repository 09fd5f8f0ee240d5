import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// Pruning `mcp:recovery:workers` of records whose liveness key is gone, against the real Redis of the
/// test servers (unique instance ids, so other tests' workers are left alone).
@Suite struct WorkerRegistryPruningTests {
    let store: RedisPoolState

    init() async throws {
        store = RedisPoolState(redis: try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL")))
    }

    private let startedAt = Date(timeIntervalSince1970: 1_800_000_000)

    private func record(_ id: String) -> WorkerRecord {
        WorkerRecord(instanceId: id, host: "test-host", pid: 1, startedAt: startedAt, heartbeatAt: startedAt, sessions: 0, capacity: 10)
    }

    @Test func aRecordThatDoesNotDecodeCountsForLivenessButNotForCapacity() async throws {
        let broken = "test-broken-" + UUID().uuidString.lowercased()
        defer {
            let redis = store.redis
            Task { _ = try? await RedisPoolState(redis: redis).workers.remove(instanceId: broken) }
        }
        _ = try await store.redis.pipeline([
            RedisCommand("HSET", RedisKeys.workers, broken, "not json"),
            RedisCommand("SET", RedisKeys.workerAlive(broken), "x", "PX", "30000"),
        ])
        let registry = try await store.workers.registry()
        #expect(registry.liveness[broken] == true)
        #expect(registry.records[broken] == nil)
        #expect(!registry.liveWorkers.contains { $0.instanceId == broken })
    }

    private func registered(_ id: String) async throws -> Bool {
        try await store.redis.send("HEXISTS", RedisKeys.workers, id).integer == 1
    }

    @Test func recordsOfWorkersWhoseLivenessLapsedAreRemovedAndLiveOnesKept() async throws {
        let live = "test-live-" + UUID().uuidString.lowercased()
        let gone = "test-gone-" + UUID().uuidString.lowercased()
        let back = "test-back-" + UUID().uuidString.lowercased()
        defer {
            let redis = store.redis
            Task { for id in [live, gone, back] { _ = try? await RedisPoolState(redis: redis).workers.remove(instanceId: id) } }
        }
        try await store.workers.record(record(live), ttl: .seconds(30))
        try await store.workers.record(record(gone), ttl: .milliseconds(50))
        try await store.workers.record(record(back), ttl: .milliseconds(50))
        try await Task.sleep(for: .milliseconds(200))

        let registry = try await store.workers.registry()
        let liveness = registry.liveness
        #expect(liveness[live] == true)
        #expect(liveness[gone] == false)
        #expect(liveness[back] == false)
        #expect(registry.liveWorkers.contains(record(live)))
        #expect(!registry.liveWorkers.contains { [gone, back].contains($0.instanceId) })

        // `back` heartbeats again between the read and the removal: its record stays.
        try await store.workers.record(record(back), ttl: .seconds(30))
        let planned = ReconcilePlanner(policy: ReconcilePolicy()).plan(ReconcileInput(
            enabled: [], observations: [:], workerLiveness: liveness.filter { [live, gone, back].contains($0.key) }, now: Date()))
        #expect(planned.workersToForget == [back, gone].sorted())
        #expect(try await store.workers.forget(planned.workersToForget) == 1)

        #expect(try await registered(live))
        #expect(try await !registered(gone))
        #expect(try await registered(back))
    }
}

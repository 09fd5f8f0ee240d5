import Foundation
import RecoveryCore
import RedisClient

/// The worker registry in Redis: a hash of records and one liveness key with a TTL per worker.
public struct RedisWorkerRecords: WorkerRecords {
    let redis: RedisClient

    /// Records a worker's liveness (its record in the registry hash and a key with a TTL).
    public func record(_ record: WorkerRecord, ttl: Duration) async throws {
        _ = try await redis.pipeline([
            RedisCommand("HSET", RedisKeys.workers, record.instanceId, record.encoded()),
            RedisCommand("SET", RedisKeys.workerAlive(record.instanceId), Timestamp.format(record.heartbeatAt), "PX", RedisValues.milliseconds(ttl)),
        ])
    }

    /// Removes a worker's record (on a clean exit).
    public func remove(instanceId: String) async throws {
        _ = try await redis.pipeline([
            RedisCommand("HDEL", RedisKeys.workers, instanceId),
            RedisCommand("DEL", RedisKeys.workerAlive(instanceId)),
        ])
    }

    /// The worker registry: every record of the hash, with whether its liveness key exists; two round
    /// trips (the hash, then the liveness keys in chunks).
    public func registry() async throws -> WorkerRegistry {
        let values = RedisValues.hash(try await redis.send("HGETALL", RedisKeys.workers))
        guard !values.isEmpty else { return WorkerRegistry() }
        var registry = WorkerRegistry()
        registry.records.reserveCapacity(values.count)
        for (id, value) in values {
            // A record that does not decode still counts for liveness (and pruning), not for capacity.
            if let record = try? WorkerRecord.decode(Data(value.utf8)) { registry.records[id] = record }
        }
        let ids = values.keys.sorted()
        registry.liveness.reserveCapacity(ids.count)
        for start in stride(from: 0, to: ids.count, by: RedisValues.readChunk) {
            let chunk = Array(ids[start..<min(start + RedisValues.readChunk, ids.count)])
            let reply = try await redis.send(RedisCommand("MGET", arguments: chunk.map(RedisKeys.workerAlive)))
            guard let alive = reply.array, alive.count == chunk.count else {
                throw RedisStateError(operation: "read worker liveness", detail: reply.errorMessage ?? "short MGET reply")
            }
            for (id, value) in zip(chunk, alive) { registry.liveness[id] = !value.isNull }
        }
        return registry
    }

    /// Removes the records of `instanceIds` whose liveness key is still gone; returns how many.
    @discardableResult
    public func forget(_ instanceIds: [String]) async throws -> Int {
        guard !instanceIds.isEmpty else { return 0 }
        let reply = try await redis.evaluate(
            PoolScripts.forgetWorkers, keys: [RedisKeys.workers] + instanceIds.map(RedisKeys.workerAlive), arguments: instanceIds)
        guard let removed = reply.integer else { throw RedisStateError(operation: "forget workers", unexpected: reply) }
        return Int(removed)
    }
}

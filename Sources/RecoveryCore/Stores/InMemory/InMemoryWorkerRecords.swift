import Foundation

/// The worker registry in memory: records, and a liveness entry with a TTL per worker.
public struct InMemoryWorkerRecords: WorkerRecords {
    let keyspace: InMemoryKeyspace

    public func record(_ record: WorkerRecord, ttl: Duration) async throws {
        keyspace.update { contents, now in
            contents.workers[record.instanceId] = record.encoded()
            contents.workerAlive[record.instanceId] = .init(
                value: Timestamp.format(record.heartbeatAt), expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
        }
    }

    public func remove(instanceId: String) async throws {
        keyspace.update { contents, _ in
            contents.workers[instanceId] = nil
            contents.workerAlive[instanceId] = nil
        }
    }

    public func registry() async throws -> WorkerRegistry {
        keyspace.update { contents, now in
            var registry = WorkerRegistry()
            for (id, value) in contents.workers {
                // A record that does not decode still counts for liveness (and pruning), not for capacity.
                if let record = try? WorkerRecord.decode(Data(value.utf8)) { registry.records[id] = record }
                registry.liveness[id] = contents.value(contents.workerAlive[id], at: now) != nil
            }
            return registry
        }
    }

    @discardableResult
    public func forget(_ instanceIds: [String]) async throws -> Int {
        keyspace.update { contents, now in
            var removed = 0
            for id in Set(instanceIds) where contents.value(contents.workerAlive[id], at: now) == nil {
                if contents.workers.removeValue(forKey: id) != nil { removed += 1 }
            }
            return removed
        }
    }
}

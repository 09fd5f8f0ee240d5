import Foundation

/// Pending markers, parks and cooldown clocks in memory: a marker is set only when absent and cleared by
/// a job only while it names that job.
public struct InMemoryRecoveryMarkers: RecoveryMarkers {
    let keyspace: InMemoryKeyspace

    public func markPending(serverId: String, jobId: String, ttl: Duration) async throws -> Bool {
        try await markPending([(serverId, jobId)], ttl: ttl).contains(serverId)
    }

    public func markPending(_ jobs: [(serverId: String, jobId: String)], ttl: Duration) async throws -> Set<String> {
        keyspace.update { contents, now in
            var marked = Set<String>()
            for job in jobs where contents.value(contents.pending[job.serverId], at: now) == nil {
                contents.pending[job.serverId] = .init(value: job.jobId, expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
                marked.insert(job.serverId)
            }
            return marked
        }
    }

    public func refreshPending(serverId: String, jobId: String, ttl: Duration) async throws {
        keyspace.update { contents, now in
            contents.pending[serverId] = .init(value: jobId, expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
        }
    }

    public func clearPending(serverId: String, ifJob jobId: String) async throws {
        keyspace.update { contents, now in
            if contents.value(contents.pending[serverId], at: now) == jobId { contents.pending[serverId] = nil }
        }
    }

    public func clearPending(serverIds: [String]) async throws {
        keyspace.update { contents, _ in for id in serverIds { contents.pending[id] = nil } }
    }

    public func recordAttempts(serverIds: [String], at date: Date) async throws {
        let stamp = Timestamp.format(date)
        keyspace.update { contents, _ in for id in serverIds { contents.lastAttempts[id] = stamp } }
    }

    public func clearAttempts(serverIds: [String]) async throws {
        keyspace.update { contents, _ in for id in serverIds { contents.lastAttempts[id] = nil } }
    }

    public func park(_ entry: ParkedEndpoint) async throws {
        keyspace.update { contents, _ in contents.parked[entry.serverId] = entry.encoded() }
    }

    @discardableResult
    public func unpark(serverIds: [String]) async throws -> Int {
        keyspace.update { contents, _ in
            Set(serverIds).reduce(0) { count, id in count + (contents.parked.removeValue(forKey: id) == nil ? 0 : 1) }
        }
    }

    public func parkedEndpoints() async throws -> [String: ParkedEndpoint] {
        ReconcileInput.decodeParked(keyspace.contents.withLock { $0.parked }).parked
    }
}

import Foundation

/// Pending markers, parks and cooldown clocks in memory: a marker is set only when absent and cleared by
/// a job only while it names that job.
public struct InMemoryRecoveryMarkers: RecoveryMarkers {
    let keyspace: InMemoryKeyspace

    public func markPending(endpointId: EndpointID, jobId: String, ttl: Duration) async throws -> Bool {
        try await markPending([(endpointId, jobId)], ttl: ttl).contains(endpointId)
    }

    public func markPending(_ jobs: [(endpointId: EndpointID, jobId: String)], ttl: Duration) async throws -> Set<EndpointID> {
        keyspace.update { contents, now in
            var marked = Set<EndpointID>()
            for job in jobs where contents.value(contents.pending[job.endpointId], at: now) == nil {
                contents.pending[job.endpointId] = .init(value: job.jobId, expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
                contents.queued[QueuedJob(endpointId: job.endpointId, jobId: job.jobId).member] = now
                marked.insert(job.endpointId)
            }
            return marked
        }
    }

    public func refreshPending(endpointId: EndpointID, jobId: String, ttl: Duration, entersQueueAfter delay: Duration) async throws {
        keyspace.update { contents, now in
            contents.pending[endpointId] = .init(value: jobId, expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
            contents.queued[QueuedJob(endpointId: endpointId, jobId: jobId).member] = now + InMemoryKeyspace.milliseconds(delay)
        }
    }

    public func clearPending(endpointId: EndpointID, ifJob jobId: String) async throws {
        keyspace.update { contents, now in
            if contents.value(contents.pending[endpointId], at: now) == jobId { contents.pending[endpointId] = nil }
        }
    }

    public func clearPending(endpointIds: [EndpointID]) async throws {
        keyspace.update { contents, _ in for id in endpointIds { contents.pending[id] = nil } }
    }

    public func recordAttempts(endpointIds: [EndpointID], at date: Date) async throws {
        let stamp = Timestamp.format(date)
        keyspace.update { contents, _ in for id in endpointIds { contents.lastAttempts[id] = stamp } }
    }

    public func clearAttempts(endpointIds: [EndpointID]) async throws {
        keyspace.update { contents, _ in for id in endpointIds { contents.lastAttempts[id] = nil } }
    }

    public func park(_ entry: ParkedEndpoint) async throws {
        keyspace.update { contents, _ in contents.parked[entry.endpointId] = entry.encoded() }
    }

    @discardableResult
    public func unpark(endpointIds: [EndpointID]) async throws -> Int {
        keyspace.update { contents, _ in
            Set(endpointIds).reduce(0) { count, id in count + (contents.parked.removeValue(forKey: id) == nil ? 0 : 1) }
        }
    }

    public func parkedEndpoints() async throws -> [EndpointID: ParkedEndpoint] {
        ReconcileInput.decodeParked(keyspace.contents.withLock { $0.parked }).parked
    }
}

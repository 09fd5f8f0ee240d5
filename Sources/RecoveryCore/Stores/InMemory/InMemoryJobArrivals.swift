/// The queued-jobs index in memory, with the scripts' rules: a receipt moves the received-through mark
/// only forward, and forgetting a job deletes its marker only while the marker names it.
public struct InMemoryJobArrivals: JobArrivals {
    let keyspace: InMemoryKeyspace

    public func received(_ job: RecoveryJob) async throws {
        keyspace.update { contents, _ in
            guard let entered = contents.queued.removeValue(forKey: QueuedJob(endpointId: job.endpointId, jobId: job.jobId).member) else { return }
            contents.receivedThrough = max(contents.receivedThrough, entered)
        }
    }

    public func unreceived(slack: Duration, limit: Int, expiry: Duration) async throws -> [QueuedJob] {
        keyspace.update { contents, now in
            contents.queued = contents.queued.filter { $0.value > now - InMemoryKeyspace.milliseconds(expiry) }
            guard contents.receivedThrough > 0 else { return [] }
            let cutoff = contents.receivedThrough - InMemoryKeyspace.milliseconds(slack)
            return contents.queued.filter { $0.value <= cutoff }
                .sorted { ($0.value, $0.key) < ($1.value, $1.key) }
                .prefix(limit)
                .compactMap { QueuedJob(member: $0.key, enteredAt: $0.value) }
        }
    }

    public func forget(_ jobs: [QueuedJob]) async throws {
        keyspace.update { contents, now in
            for job in jobs {
                contents.queued[job.member] = nil
                if contents.value(contents.pending[job.endpointId], at: now) == job.jobId { contents.pending[job.endpointId] = nil }
            }
        }
    }
}

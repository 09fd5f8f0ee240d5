import Foundation
import RecoveryCore
import RedisClient

/// Pending markers, parks and cooldown clocks in Redis: a marker is set only when absent (`NX`) and
/// cleared by a job only while it still names that job (compare-and-delete).
public struct RedisRecoveryMarkers: RecoveryMarkers {
    let redis: RedisClient

    public func markPending(endpointId: EndpointID, jobId: String, ttl: Duration) async throws -> Bool {
        let reply = try await redis.evaluate(
            PoolScripts.setPending, keys: [RedisKeys.pending(endpointId), RedisKeys.queuedJobs],
            arguments: Self.markerArguments(endpointId: endpointId, jobId: jobId, ttl: ttl, delay: .zero, replace: false))
        return reply.integer == 1
    }

    /// `LuaScripts.setPendingMarker`'s arguments (its keys: the pending key, then `RedisKeys.queuedJobs`).
    static func markerArguments(endpointId: EndpointID, jobId: String, ttl: Duration, delay: Duration, replace: Bool) -> [any RedisArgumentConvertible] {
        [jobId, RedisValues.milliseconds(ttl), QueuedJob(endpointId: endpointId, jobId: jobId).member,
         RedisValues.milliseconds(delay), replace ? "replace" : "nx"]
    }

    /// One round trip for all.
    public func markPending(_ jobs: [(endpointId: EndpointID, jobId: String)], ttl: Duration) async throws -> Set<EndpointID> {
        guard !jobs.isEmpty else { return [] }
        let commands = jobs.map { job in
            RedisCommand("EVALSHA", arguments: [PoolScripts.setPending.sha1, 2, RedisKeys.pending(job.endpointId), RedisKeys.queuedJobs]
                + Self.markerArguments(endpointId: job.endpointId, jobId: job.jobId, ttl: ttl, delay: .zero, replace: false))
        }
        let replies = try await redis.pipelineLoadingScripts(commands, scripts: [LuaScripts.setPendingMarker])
        var marked = Set<EndpointID>()
        for (job, reply) in zip(jobs, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "mark pending", detail: message) }
            if reply.integer == 1 { marked.insert(job.endpointId) }
        }
        return marked
    }

    public func refreshPending(endpointId: EndpointID, jobId: String, ttl: Duration, entersQueueAfter delay: Duration) async throws {
        try await redis.evaluate(
            PoolScripts.setPending, keys: [RedisKeys.pending(endpointId), RedisKeys.queuedJobs],
            arguments: Self.markerArguments(endpointId: endpointId, jobId: jobId, ttl: ttl, delay: delay, replace: true))
    }

    public func clearPending(endpointId: EndpointID, ifJob jobId: String) async throws {
        try await redis.evaluate(PoolScripts.clearPendingIfJob, keys: [RedisKeys.pending(endpointId)], arguments: [jobId])
    }

    public func clearPending(endpointIds: [EndpointID]) async throws {
        guard !endpointIds.isEmpty else { return }
        try await redis.delete(endpointIds.map(RedisKeys.pending))
    }

    public func recordAttempts(endpointIds: [EndpointID], at date: Date) async throws {
        guard !endpointIds.isEmpty else { return }
        let stamp = Timestamp.format(date)
        var arguments: [any RedisArgumentConvertible] = [RedisKeys.lastAttempt]
        for id in endpointIds { arguments += [id, stamp] }
        try await redis.send(RedisCommand("HSET", arguments: arguments))
    }

    public func clearAttempts(endpointIds: [EndpointID]) async throws {
        guard !endpointIds.isEmpty else { return }
        try await redis.send(RedisCommand("HDEL", arguments: [RedisKeys.lastAttempt] + endpointIds))
    }

    public func park(_ entry: ParkedEndpoint) async throws {
        try await redis.send("HSET", RedisKeys.parked, entry.endpointId, entry.encoded())
    }

    @discardableResult
    public func unpark(endpointIds: [EndpointID]) async throws -> Int {
        guard !endpointIds.isEmpty else { return 0 }
        let reply = try await redis.send(RedisCommand("HDEL", arguments: [RedisKeys.parked] + endpointIds))
        return Int(reply.integer ?? 0)
    }

    public func parkedEndpoints() async throws -> [EndpointID: ParkedEndpoint] {
        let reply = try await redis.send("HGETALL", RedisKeys.parked)
        return ReconcileInput.decodeParked(RedisValues.endpointHash(reply)).parked
    }
}

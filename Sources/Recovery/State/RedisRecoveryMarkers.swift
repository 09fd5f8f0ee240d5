import Foundation
import RecoveryCore
import RedisClient

/// Pending markers, parks and cooldown clocks in Redis: a marker is set only when absent (`NX`) and
/// cleared by a job only while it still names that job (compare-and-delete).
public struct RedisRecoveryMarkers: RecoveryMarkers {
    let redis: RedisClient

    public func markPending(serverId: String, jobId: String, ttl: Duration) async throws -> Bool {
        let reply = try await redis.evaluate(
            PoolScripts.setPending, keys: [RedisKeys.pending(serverId)], arguments: [jobId, RedisValues.milliseconds(ttl)])
        return reply.integer == 1
    }

    /// One round trip for all.
    public func markPending(_ jobs: [(serverId: String, jobId: String)], ttl: Duration) async throws -> Set<String> {
        guard !jobs.isEmpty else { return [] }
        let milliseconds = RedisValues.milliseconds(ttl)
        let commands = jobs.map { job in
            RedisCommand("EVALSHA", arguments: [PoolScripts.setPending.sha1, 1, RedisKeys.pending(job.serverId), job.jobId, milliseconds])
        }
        let replies = try await redis.pipelineLoadingScripts(commands, scripts: [LuaScripts.setPendingMarker])
        var marked = Set<String>()
        for (job, reply) in zip(jobs, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "mark pending", detail: message) }
            if reply.integer == 1 { marked.insert(job.serverId) }
        }
        return marked
    }

    public func refreshPending(serverId: String, jobId: String, ttl: Duration) async throws {
        try await redis.set(RedisKeys.pending(serverId), jobId, expiry: ttl)
    }

    public func clearPending(serverId: String, ifJob jobId: String) async throws {
        try await redis.evaluate(PoolScripts.clearPendingIfJob, keys: [RedisKeys.pending(serverId)], arguments: [jobId])
    }

    public func clearPending(serverIds: [String]) async throws {
        guard !serverIds.isEmpty else { return }
        try await redis.delete(serverIds.map(RedisKeys.pending))
    }

    public func recordAttempts(serverIds: [String], at date: Date) async throws {
        guard !serverIds.isEmpty else { return }
        let stamp = Timestamp.format(date)
        var arguments: [any RedisArgumentConvertible] = [RedisKeys.lastAttempt]
        for id in serverIds { arguments += [id, stamp] }
        try await redis.send(RedisCommand("HSET", arguments: arguments))
    }

    public func clearAttempts(serverIds: [String]) async throws {
        guard !serverIds.isEmpty else { return }
        try await redis.send(RedisCommand("HDEL", arguments: [RedisKeys.lastAttempt] + serverIds))
    }

    public func park(_ entry: ParkedEndpoint) async throws {
        try await redis.send("HSET", RedisKeys.parked, entry.serverId, entry.encoded())
    }

    @discardableResult
    public func unpark(serverIds: [String]) async throws -> Int {
        guard !serverIds.isEmpty else { return 0 }
        let reply = try await redis.send(RedisCommand("HDEL", arguments: [RedisKeys.parked] + serverIds))
        return Int(reply.integer ?? 0)
    }

    public func parkedEndpoints() async throws -> [String: ParkedEndpoint] {
        let reply = try await redis.send("HGETALL", RedisKeys.parked)
        return ReconcileInput.decodeParked(RedisValues.hash(reply)).parked
    }
}

import Foundation
import RecoveryCore
import RedisClient

/// What the operator commands and the console read and change in Redis beyond the other roles.
public struct RedisOperatorView: OperatorView {
    let redis: RedisClient

    /// The states of `endpointIds` and every park, in one pipelined round trip.
    public func statusReadings(endpointIds: [EndpointID]) async throws -> EndpointStateReadings {
        var commands = endpointIds.map { RedisCommand("GET", RedisKeys.connectionState($0)) }
        commands.append(RedisCommand("HGETALL", RedisKeys.parked))
        let replies = try await redis.pipeline(commands)
        guard replies.count == commands.count else { throw RedisStateError(operation: "status readings", detail: "short pipeline reply") }
        var states: [EndpointID: StateReading] = [:]
        for (id, reply) in zip(endpointIds, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "status readings", detail: message) }
            if let bytes = reply.bytes { states[id] = StateReading(stored: String(decoding: bytes, as: UTF8.self)) }
        }
        let parked = ReconcileInput.decodeParked(RedisValues.endpointHash(replies[replies.count - 1])).parked
        return EndpointStateReadings(states: states, parked: parked)
    }

    /// Before an operator's retry jobs are published: ends the endpoints' parks and points their pending
    /// markers at the new jobs (two pipelines); returns the park entries it removed (to undo).
    public func prepareManualRetry(jobs: [RecoveryJob], pendingTtl: Duration) async throws -> [EndpointID: String] {
        guard !jobs.isEmpty else { return [:] }
        let ids = jobs.map(\.endpointId)
        let replies = try await redis.pipeline([
            RedisCommand("HMGET", arguments: [RedisKeys.parked] + ids),
            RedisCommand("HDEL", arguments: [RedisKeys.parked] + ids),
        ])
        // Apart: a pipeline that reloads its scripts runs again, and the parks read must be the first read.
        let markers = try await redis.pipelineLoadingScripts(jobs.map { job in
            RedisCommand("EVALSHA", arguments: [PoolScripts.setPending.sha1, 2, RedisKeys.pending(job.endpointId), RedisKeys.queuedJobs]
                + RedisRecoveryMarkers.markerArguments(endpointId: job.endpointId, jobId: job.jobId, ttl: pendingTtl, delay: .zero, replace: true))
        }, scripts: [LuaScripts.setPendingMarker])
        if let message = (replies + markers).compactMap(\.errorMessage).first {
            throw RedisStateError(operation: "prepare manual retry", detail: message)
        }
        var previous: [EndpointID: String] = [:]
        for (id, value) in zip(ids, replies.first?.array ?? []) {
            if let stored = value.string { previous[id] = stored }
        }
        return previous
    }

    /// Undoes `prepareManualRetry` for jobs that were not published: their parks come back and the
    /// pending markers that still name those jobs go.
    public func undoManualRetry(jobs: [RecoveryJob], previousParks: [EndpointID: String]) async throws {
        for job in jobs {
            try await RedisRecoveryMarkers(redis: redis).clearPending(endpointId: job.endpointId, ifJob: job.jobId)
            if let park = previousParks[job.endpointId] {
                try await redis.send("HSETNX", RedisKeys.parked, job.endpointId, park)
            }
        }
    }

    /// Stores the leader's latest cycle for the console (a day's expiry: a stopped scheduler's shows its age).
    public func recordLastCycle(_ summary: CycleSummary) async throws {
        try await redis.set(RedisKeys.lastCycle, String(decoding: summary.jsonData(), as: UTF8.self), expiry: .seconds(86_400))
    }

    /// The leader's latest cycle, or nil when none ran in the last day.
    public func lastCycle() async throws -> CycleSummary? {
        try await redis.get(RedisKeys.lastCycle).flatMap { CycleSummary.decode(Data($0)) }
    }
}

import Foundation
import RecoveryCore
import RedisClient

/// Session states in Redis: every write checks the lease token inside its script; a heartbeat of
/// thousands of states is a few script calls in one round trip.
public struct RedisSessionStates: SessionStates {
    let redis: RedisClient

    /// States written by one call of `writeStatesIfLeasesHeld` (none holding Redis long).
    static let stateWriteChunk = 500

    public func write(_ state: ConnectionState, token: String) async throws -> Bool {
        let reply = try await redis.evaluate(
            PoolScripts.writeState,
            keys: [
                RedisKeys.lease(state.endpointId), RedisKeys.connectionState(state.endpointId), RedisKeys.connectionIndex,
                RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            ],
            arguments: [token, state.encoded(), state.endpointId])
        return reply.integer == 1
    }

    /// The `EVALSHA` of `writeStateIfLeaseHeld` for one state, for pipelines.
    static func writeCommand(_ state: ConnectionState, token: String) -> RedisCommand {
        RedisCommand("EVALSHA", arguments: [
            PoolScripts.writeState.sha1, 5, RedisKeys.lease(state.endpointId), RedisKeys.connectionState(state.endpointId),
            RedisKeys.connectionIndex, RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            token, state.encoded(), state.endpointId,
        ])
    }

    public func write(_ writes: [StateWrite]) async throws -> Set<EndpointID> {
        guard !writes.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        var start = 0
        while start < writes.count {
            let chunk = writes[start..<min(start + Self.stateWriteChunk, writes.count)]
            start += Self.stateWriteChunk
            var arguments: [any RedisArgumentConvertible] = [
                PoolScripts.writeStatesBatch.sha1, 3 + 2 * chunk.count,
                RedisKeys.connectionIndex, RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            ]
            arguments.reserveCapacity(5 + 5 * chunk.count)
            for write in chunk { arguments += [RedisKeys.lease(write.endpointId), RedisKeys.connectionState(write.endpointId)] }
            for write in chunk { arguments += [write.token, write.value, write.endpointId] }
            commands.append(RedisCommand("EVALSHA", arguments: arguments))
        }
        let replies = try await redis.pipelineLoadingScripts(commands, scripts: [LuaScripts.writeStatesIfLeasesHeld])
        var refused = Set<EndpointID>()
        for reply in replies {
            if let message = reply.errorMessage { throw RedisStateError(operation: "write states", detail: message) }
            guard let ids = reply.array else { throw RedisStateError(operation: "write states", unexpected: reply) }
            for id in ids { if let endpointId = id.endpointID { refused.insert(endpointId) } }
        }
        return refused
    }

    @discardableResult
    public func releaseSession(endpointId: EndpointID, token: String) async throws -> Bool {
        let reply = try await redis.evaluate(
            PoolScripts.releaseSession,
            keys: [
                RedisKeys.lease(endpointId), RedisKeys.connectionState(endpointId), RedisKeys.connectionIndex,
                RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            ],
            arguments: [token, endpointId])
        return reply.integer == 1
    }

    /// One pipeline: the state write (`writeStateIfLeaseHeld`), then `settleRecovered` (the marker cleared
    /// if it names `jobId`; the park and the cooldown clock ended while the lease is still held).
    public func commitRecovered(_ state: ConnectionState, token: String, jobId: String) async throws -> Bool {
        let commands = [
            Self.writeCommand(state, token: token),
            RedisCommand("EVALSHA", arguments: [
                PoolScripts.settleRecovered.sha1, 4, RedisKeys.lease(state.endpointId), RedisKeys.pending(state.endpointId),
                RedisKeys.parked, RedisKeys.lastAttempt, token, jobId, state.endpointId,
            ]),
        ]
        let replies = try await redis.pipelineLoadingScripts(commands, scripts: [LuaScripts.writeStateIfLeaseHeld, LuaScripts.settleRecovered])
        guard replies.count == 2 else {
            throw RedisStateError(operation: "commit recovered state", detail: "short pipeline reply")
        }
        if let message = replies.lazy.compactMap(\.errorMessage).first {
            throw RedisStateError(operation: "commit recovered state", detail: message)
        }
        return replies[0].integer == 1
    }

    /// One pipeline of `settlementCommands`.
    public func settle(_ disposition: ResultDisposition, endpointId: EndpointID, jobId: String) async throws {
        let commands = Self.settlementCommands(disposition, endpointId: endpointId, jobId: jobId)
        guard !commands.isEmpty else { return }
        let replies = try await redis.pipelineLoadingScripts(commands, scripts: [LuaScripts.clearPendingMarkerIfJob, LuaScripts.settleIfPending])
        if let message = replies.lazy.compactMap(\.errorMessage).first {
            throw RedisStateError(operation: "settle job \(jobId)", detail: message)
        }
    }

    /// The commands that apply `disposition` for one job, in order: the pending marker (only if it still
    /// names `jobId`), then the park written or ended, then the cooldown clock; with `onlyWhilePending`,
    /// one script that does it all only while the marker names `jobId` (no park is ended that way). `refreshPending` is left
    /// to whoever published the retry (it names the new job).
    static func settlementCommands(_ disposition: ResultDisposition, endpointId: EndpointID, jobId: String) -> [RedisCommand] {
        if disposition.onlyWhilePending {
            // Everything in one script that checks the marker first.
            return [RedisCommand("EVALSHA", arguments: [
                PoolScripts.settleIfPending.sha1, 2, RedisKeys.pending(endpointId), RedisKeys.parked, jobId, endpointId,
                disposition.park?.encoded() ?? "",
            ])]
        }
        var commands: [RedisCommand] = []
        if disposition.clearPending {
            commands.append(RedisCommand("EVALSHA", arguments: [PoolScripts.clearPendingIfJob.sha1, 1, RedisKeys.pending(endpointId), jobId]))
        }
        if let park = disposition.park {
            commands.append(RedisCommand("HSET", RedisKeys.parked, park.endpointId, park.encoded()))
        }
        if disposition.clearPark {
            commands.append(RedisCommand("HDEL", RedisKeys.parked, endpointId))
            commands.append(RedisCommand("HDEL", RedisKeys.lastAttempt, endpointId))
        }
        return commands
    }

    public func read(endpointId: EndpointID) async throws -> StateReading {
        let value = try await redis.get(RedisKeys.connectionState(endpointId))
        return StateReading(stored: value.map { String(decoding: $0, as: UTF8.self) })
    }
}

import Foundation
import RecoveryCore
import RedisClient

/// The scheduler's reads of Redis, in a fixed number of round trips whatever the number of endpoints, and
/// its housekeeping there (each change a script that re-checks what was read).
public struct RedisReconcileReader: ReconcileReader {
    let redis: RedisClient

    /// Everything a reconcile pass needs from Redis for `enabled`, in a fixed number of round trips: the
    /// held-sessions index (its members only when they changed since `cache`), on a full read the index of
    /// states, then one pipeline of MGETs (states, leases, pending markers of each chunk of the ids read key
    /// by key) with the parks and the cooldown clocks. A full read reads every enabled id and every member of both
    /// indexes; otherwise the enabled ids the held-sessions index vouches for are not read.
    public func observe(enabled: [EnabledEndpoint], cache: inout HeldSessionsCache, fullRead: Bool) async throws -> RedisObservation {
        let heldReply = try await redis.evaluate(
            PoolScripts.observeHeld, keys: [RedisKeys.heldSessions, RedisKeys.heldSessionsVersion], arguments: [cache.version])
        let reading = try Self.heldReading(heldReply)
        let vouching = cache.apply(reading)

        var indexed = Set<EndpointID>()
        if fullRead {
            let indexReply = try await redis.send("SMEMBERS", RedisKeys.connectionIndex)
            indexed = Set((indexReply.array ?? []).compactMap(\.endpointID))
        }
        let scope = ReconcileScope(enabled: enabled, vouching: vouching, fullRead: fullRead, indexed: indexed)
        let ids = scope.idsToRead

        // Per chunk of ids: MGET of their states, of their leases and of their pending markers.
        let chunks = stride(from: 0, to: ids.count, by: RedisValues.readChunk).map { ids[$0..<min($0 + RedisValues.readChunk, ids.count)] }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(chunks.count * 3 + 2)
        for chunk in chunks {
            commands.append(RedisCommand("MGET", arguments: chunk.map(RedisKeys.connectionState)))
            commands.append(RedisCommand("MGET", arguments: chunk.map(RedisKeys.lease)))
            commands.append(RedisCommand("MGET", arguments: chunk.map(RedisKeys.pending)))
        }
        commands.append(RedisCommand("HGETALL", RedisKeys.parked))
        commands.append(RedisCommand("HGETALL", RedisKeys.lastAttempt))
        let replies = try await redis.pipeline(commands)
        guard replies.count == commands.count else { throw RedisStateError(operation: "observe", detail: "short pipeline reply") }

        var observations: [EndpointID: LiveObservation] = [:]
        observations.reserveCapacity(ids.count)
        var pending: [EndpointID: String] = [:]
        for (number, chunk) in chunks.enumerated() {
            let values = try (0..<3).map { part in
                let reply = replies[number * 3 + part]
                guard let values = reply.array, values.count == chunk.count else {
                    throw RedisStateError(operation: "observe", detail: reply.errorMessage ?? "short MGET reply")
                }
                return values
            }
            for (offset, id) in chunk.enumerated() {
                let stored = values[0][offset].bytes.map { String(decoding: $0, as: UTF8.self) }
                let leaseHeld = !values[1][offset].isNull
                if let jobId = values[2][offset].bytes { pending[id] = String(decoding: jobId, as: UTF8.self) }
                let isIndexed = !indexed.isEmpty && indexed.contains(id)
                if let observed = LiveObservation.read(stored: stored, leaseHeld: leaseHeld, indexed: isIndexed) {
                    observations[id] = observed
                }
            }
        }
        let parked = ReconcileInput.decodeParked(RedisValues.endpointHash(replies[replies.count - 2])).parked
        let lastAttempts = ReconcileInput.decodeLastAttempts(RedisValues.endpointHash(replies[replies.count - 1]))
        return RedisObservation(
            observations: observations, pending: pending, parked: parked, lastAttempts: lastAttempts,
            scope: scope, keysRead: ids.count, fullRead: fullRead, serverTime: reading.serverTime)
    }

    /// Decodes the reply of `LuaScripts.observeHeldSessions`.
    static func heldReading(_ reply: RedisReply) throws -> HeldSessionsReading {
        guard let items = reply.array, items.count >= 3, let now = items[1].integer, let lapsed = items[2].array else {
            throw RedisStateError(operation: "observe held sessions", detail: reply.errorMessage ?? "unexpected reply")
        }
        let members = items.count > 3 ? Set((items[3].array ?? []).compactMap(\.endpointID)) : nil
        return HeldSessionsReading(
            version: items[0].string ?? "", serverTime: now, lapsed: Set(lapsed.compactMap(\.endpointID)), members: members)
    }

    /// How many held sessions' lease deadlines passed after `serverTime` (milliseconds, the Redis server's
    /// clock, as a `HeldSessionsReading` gives it) and up to now; and the server's time now.
    public func lapsesSince(serverTime: Int64) async throws -> (count: Int, serverTime: Int64) {
        let reply = try await redis.evaluate(PoolScripts.countLapses, keys: [RedisKeys.heldSessions], arguments: [serverTime])
        guard let items = reply.array, items.count == 2, let now = items[0].integer, let count = items[1].integer else {
            throw RedisStateError(operation: "count lapsed sessions", detail: reply.errorMessage ?? "unexpected reply")
        }
        return (Int(count), now)
    }

    /// Drops lapsed members from the held-sessions index (those still past their deadline); returns how many.
    @discardableResult
    public func forgetLapsedSessions(_ endpointIds: [EndpointID]) async throws -> Int {
        guard !endpointIds.isEmpty else { return 0 }
        let reply = try await redis.evaluate(
            PoolScripts.forgetLapsed, keys: [RedisKeys.heldSessions, RedisKeys.heldSessionsVersion], arguments: endpointIds)
        return Int(reply.integer ?? 0)
    }

    /// Deletes states judged stale, each only if it still holds its `storedValue`, in one round trip;
    /// returns the ids deleted (a state rewritten since it was read survives).
    @discardableResult
    public func deleteStaleStates(_ stale: [StaleState]) async throws -> Set<EndpointID> {
        guard !stale.isEmpty else { return [] }
        let commands = stale.map { entry in
            RedisCommand("EVALSHA", arguments: [
                PoolScripts.deleteStateIfUnchanged.sha1, 4, RedisKeys.connectionState(entry.endpointId), RedisKeys.connectionIndex,
                RedisKeys.heldSessions, RedisKeys.heldSessionsVersion, entry.storedValue, entry.endpointId,
            ])
        }
        let replies = try await redis.pipelineLoadingScripts(commands, scripts: [LuaScripts.deleteStateIfUnchanged])
        var deleted = Set<EndpointID>()
        for (entry, reply) in zip(stale, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "delete stale states", detail: message) }
            if reply.integer == 1 { deleted.insert(entry.endpointId) }
        }
        return deleted
    }

    /// Removes an index entry that has no state.
    public func removeIndexEntry(endpointId: EndpointID) async throws {
        try await redis.evaluate(
            PoolScripts.removeIndexEntry, keys: [RedisKeys.connectionState(endpointId), RedisKeys.connectionIndex], arguments: [endpointId])
    }
}

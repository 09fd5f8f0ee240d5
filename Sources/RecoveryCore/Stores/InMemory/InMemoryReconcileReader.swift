import Foundation

/// The scheduler's reads of the keyspace in memory, with the rules of `LuaScripts.observeHeldSessions`,
/// `countLapsesSince`, `forgetLapsedSessions`, `deleteStateIfUnchanged` and `removeIndexEntryIfNoState`.
public struct InMemoryReconcileReader: ReconcileReader {
    let keyspace: InMemoryKeyspace

    /// One atomic read of everything (the Redis read is a few round trips; no rule depends on that).
    public func observe(enabled: [EnabledEndpoint], cache: inout HeldSessionsCache, fullRead: Bool) async throws -> RedisObservation {
        let known = cache.version
        let (reading, indexed, contents, now) = keyspace.update { contents, now in
            let version = contents.heldVersion == 0 ? "" : String(contents.heldVersion)
            let lapsed = Set(contents.held.filter { $0.value <= now }.keys)
            let members = !version.isEmpty && version == known ? nil : Set(contents.held.keys)
            let reading = HeldSessionsReading(version: version, serverTime: now, lapsed: lapsed, members: members)
            return (reading, fullRead ? contents.indexed : [], contents, now)
        }
        let vouching = cache.apply(reading)
        let scope = ReconcileScope(enabled: enabled, vouching: vouching, fullRead: fullRead, indexed: indexed)
        let ids = scope.idsToRead
        var observations: [EndpointID: LiveObservation] = [:]
        var pending: [EndpointID: String] = [:]
        for id in ids {
            if let jobId = contents.value(contents.pending[id], at: now) { pending[id] = jobId }
            let observed = LiveObservation.read(
                stored: contents.states[id], leaseHeld: contents.value(contents.leases[id], at: now) != nil,
                indexed: indexed.contains(id))
            if let observed { observations[id] = observed }
        }
        return RedisObservation(
            observations: observations, pending: pending, parked: ReconcileInput.decodeParked(contents.parked).parked,
            lastAttempts: ReconcileInput.decodeLastAttempts(contents.lastAttempts), scope: scope, keysRead: ids.count,
            fullRead: fullRead, serverTime: reading.serverTime)
    }

    public func lapsesSince(serverTime: Int64) async throws -> (count: Int, serverTime: Int64) {
        keyspace.update { contents, now in
            (contents.held.values.filter { $0 > serverTime && $0 <= now }.count, now)
        }
    }

    @discardableResult
    public func forgetLapsedSessions(_ endpointIds: [EndpointID]) async throws -> Int {
        keyspace.update { contents, now in
            var dropped = 0
            for id in Set(endpointIds) {
                if let deadline = contents.held[id], deadline <= now {
                    contents.held[id] = nil
                    dropped += 1
                }
            }
            if dropped > 0 { contents.heldVersion += 1 }
            return dropped
        }
    }

    @discardableResult
    public func deleteStaleStates(_ stale: [StaleState]) async throws -> Set<EndpointID> {
        keyspace.update { contents, _ in
            var deleted = Set<EndpointID>()
            for entry in stale where contents.states[entry.endpointId] == entry.storedValue {
                contents.states[entry.endpointId] = nil
                contents.indexed.remove(entry.endpointId)
                contents.unhold(entry.endpointId)
                deleted.insert(entry.endpointId)
            }
            return deleted
        }
    }

    public func removeIndexEntry(endpointId: EndpointID) async throws {
        keyspace.update { contents, _ in
            if contents.states[endpointId] == nil { contents.indexed.remove(endpointId) }
        }
    }
}

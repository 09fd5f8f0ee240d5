import Foundation

/// Session states in memory, with the rules of `LuaScripts.writeStateIfLeaseHeld`,
/// `writeStatesIfLeasesHeld`, `deleteStateIfLeaseHeld` and `settleRecovered`.
public struct InMemorySessionStates: SessionStates {
    let keyspace: InMemoryKeyspace

    public func write(_ state: ConnectionState, token: String) async throws -> Bool {
        try await write([StateWrite(serverId: state.serverId, value: state.encoded(), token: token)]).isEmpty
    }

    public func write(_ writes: [StateWrite]) async throws -> Set<String> {
        keyspace.update { contents, now in
            var refused = Set<String>()
            var joined = false
            for write in writes {
                guard contents.leaseHolds(write.serverId, token: write.token, at: now) else {
                    refused.insert(write.serverId)
                    continue
                }
                contents.states[write.serverId] = write.value
                contents.indexed.insert(write.serverId)
                if contents.hold(write.serverId, at: now) { joined = true }
            }
            if joined { contents.heldVersion += 1 }
            return refused
        }
    }

    @discardableResult
    public func delete(serverId: String, token: String) async throws -> Bool {
        keyspace.update { contents, now in
            guard contents.leaseHolds(serverId, token: token, at: now) else { return false }
            contents.states[serverId] = nil
            contents.indexed.remove(serverId)
            contents.unhold(serverId)
            return true
        }
    }

    public func commitRecovered(_ state: ConnectionState, token: String, jobId: String) async throws -> Bool {
        let written = try await write(state, token: token)
        keyspace.update { contents, now in
            if contents.value(contents.pending[state.serverId], at: now) == jobId { contents.pending[state.serverId] = nil }
            guard contents.leaseHolds(state.serverId, token: token, at: now) else { return }
            contents.parked[state.serverId] = nil
            contents.lastAttempts[state.serverId] = nil
        }
        return written
    }

    public func settle(_ disposition: ResultDisposition, serverId: String, jobId: String) async throws {
        keyspace.update { contents, now in
            if disposition.onlyWhilePending {
                guard contents.value(contents.pending[serverId], at: now) == jobId else { return }
                contents.pending[serverId] = nil
                if let park = disposition.park { contents.parked[park.serverId] = park.encoded() }
                return
            }
            if disposition.clearPending, contents.value(contents.pending[serverId], at: now) == jobId {
                contents.pending[serverId] = nil
            }
            if let park = disposition.park { contents.parked[park.serverId] = park.encoded() }
            if disposition.clearPark {
                contents.parked[serverId] = nil
                contents.lastAttempts[serverId] = nil
            }
        }
    }

    public func read(serverId: String) async throws -> StateReading {
        StateReading(stored: keyspace.contents.withLock { $0.states[serverId] })
    }
}

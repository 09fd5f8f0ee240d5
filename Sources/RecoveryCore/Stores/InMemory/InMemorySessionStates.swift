import Foundation

/// Session states in memory, with the rules of `LuaScripts.writeStateIfLeaseHeld`,
/// `writeStatesIfLeasesHeld`, `releaseSession` and `settleRecovered`.
public struct InMemorySessionStates: SessionStates {
    let keyspace: InMemoryKeyspace

    public func write(_ state: ConnectionState, token: String) async throws -> Bool {
        try await write([StateWrite(endpointId: state.endpointId, value: state.encoded(), token: token)]).isEmpty
    }

    public func write(_ writes: [StateWrite]) async throws -> Set<EndpointID> {
        keyspace.update { contents, now in
            var refused = Set<EndpointID>()
            var joined = false
            for write in writes {
                guard contents.leaseHolds(write.endpointId, token: write.token, at: now) else {
                    refused.insert(write.endpointId)
                    continue
                }
                contents.states[write.endpointId] = write.value
                contents.indexed.insert(write.endpointId)
                if contents.hold(write.endpointId, at: now) { joined = true }
            }
            if joined { contents.heldVersion += 1 }
            return refused
        }
    }

    @discardableResult
    public func releaseSession(endpointId: EndpointID, token: String) async throws -> Bool {
        keyspace.update { contents, now in
            guard contents.leaseHolds(endpointId, token: token, at: now) else { return false }
            contents.leases[endpointId] = nil
            contents.states[endpointId] = nil
            contents.indexed.remove(endpointId)
            contents.unhold(endpointId)
            return true
        }
    }

    public func commitRecovered(_ state: ConnectionState, token: String, jobId: String) async throws -> Bool {
        let written = try await write(state, token: token)
        keyspace.update { contents, now in
            if contents.value(contents.pending[state.endpointId], at: now) == jobId { contents.pending[state.endpointId] = nil }
            guard contents.leaseHolds(state.endpointId, token: token, at: now) else { return }
            contents.parked[state.endpointId] = nil
            contents.lastAttempts[state.endpointId] = nil
        }
        return written
    }

    public func settle(_ disposition: ResultDisposition, endpointId: EndpointID, jobId: String) async throws {
        keyspace.update { contents, now in
            if disposition.onlyWhilePending {
                guard contents.value(contents.pending[endpointId], at: now) == jobId else { return }
                contents.pending[endpointId] = nil
                if let park = disposition.park { contents.parked[park.endpointId] = park.encoded() }
                return
            }
            if disposition.clearPending, contents.value(contents.pending[endpointId], at: now) == jobId {
                contents.pending[endpointId] = nil
            }
            if let park = disposition.park { contents.parked[park.endpointId] = park.encoded() }
            if disposition.clearPark {
                contents.parked[endpointId] = nil
                contents.lastAttempts[endpointId] = nil
            }
        }
    }

    public func read(endpointId: EndpointID) async throws -> StateReading {
        StateReading(stored: keyspace.contents.withLock { $0.states[endpointId] })
    }
}

import Foundation

/// Endpoint leases in memory, with the rules of `LuaScripts.acquireLease`, `renewSessionLeases` and
/// `releaseSessionLease`.
public struct InMemoryLeaseStore: LeaseStore {
    let keyspace: InMemoryKeyspace

    public func acquire(endpointId: EndpointID, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> LeaseAcquisition {
        keyspace.update { contents, now in
            Self.acquire(endpointId: endpointId, token: token, ttl: ttl, foreignHeartbeatTimeout: foreignHeartbeatTimeout, in: &contents, at: now)
        }
    }

    public func renew(_ leases: [EndpointID: String], ttl: Duration) async throws -> Set<EndpointID> {
        keyspace.update { contents, now in
            let deadline = now + InMemoryKeyspace.milliseconds(ttl)
            var lost = Set<EndpointID>()
            for (endpointId, token) in leases {
                guard contents.leaseHolds(endpointId, token: token, at: now) else {
                    lost.insert(endpointId)
                    continue
                }
                contents.leases[endpointId]?.expiresAt = deadline
                // Like `ZADD XX`: a session without a state is not added.
                if contents.held[endpointId] != nil { contents.held[endpointId] = deadline }
            }
            return lost
        }
    }

    @discardableResult
    public func release(endpointId: EndpointID, token: String) async throws -> Bool {
        keyspace.update { contents, now in
            guard contents.leaseHolds(endpointId, token: token, at: now) else { return false }
            contents.leases[endpointId] = nil
            contents.unhold(endpointId)
            return true
        }
    }

    public func reacquire(_ leases: [EndpointID: String], ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> (fences: [EndpointID: Int], replicated: Bool) {
        keyspace.update { contents, now in
            var fences: [EndpointID: Int] = [:]
            for (endpointId, token) in leases {
                let taken = Self.acquire(
                    endpointId: endpointId, token: token, ttl: ttl, foreignHeartbeatTimeout: foreignHeartbeatTimeout, in: &contents, at: now)
                if let fence = taken.fence { fences[endpointId] = fence }
            }
            return (fences, true)
        }
    }

    public func serverTime() async throws -> Date { keyspace.clock() }

    private static func acquire(
        endpointId: EndpointID, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?,
        in contents: inout InMemoryKeyspace.Contents, at now: Int64
    ) -> LeaseAcquisition {
        if let timeout = foreignHeartbeatTimeout, timeout > .zero, let stored = contents.states[endpointId],
           let state = try? ConnectionState.decode(stored), !state.isWrittenByPool, state.status.isUp,
           InMemoryKeyspace.milliseconds(state.lastHeartbeat) + InMemoryKeyspace.milliseconds(timeout) > now {
            return .foreignSessionLive
        }
        guard contents.value(contents.leases[endpointId], at: now) == nil else { return .heldByAnother }
        contents.leases[endpointId] = .init(value: token, expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
        let fence = contents.fences[endpointId, default: 0] + 1
        contents.fences[endpointId] = fence
        return .acquired(fence: fence)
    }
}

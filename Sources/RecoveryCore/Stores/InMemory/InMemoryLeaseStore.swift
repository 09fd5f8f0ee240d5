import Foundation

/// Endpoint leases in memory, with the rules of `LuaScripts.acquireLease`, `renewSessionLeases` and
/// `releaseSessionLease`.
public struct InMemoryLeaseStore: LeaseStore {
    let keyspace: InMemoryKeyspace

    public func acquire(serverId: String, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> LeaseAcquisition {
        keyspace.update { contents, now in
            Self.acquire(serverId: serverId, token: token, ttl: ttl, foreignHeartbeatTimeout: foreignHeartbeatTimeout, in: &contents, at: now)
        }
    }

    public func renew(_ leases: [String: String], ttl: Duration) async throws -> Set<String> {
        keyspace.update { contents, now in
            let deadline = now + InMemoryKeyspace.milliseconds(ttl)
            var lost = Set<String>()
            for (serverId, token) in leases {
                guard contents.leaseHolds(serverId, token: token, at: now) else {
                    lost.insert(serverId)
                    continue
                }
                contents.leases[serverId]?.expiresAt = deadline
                // Like `ZADD XX`: a session without a state is not added.
                if contents.held[serverId] != nil { contents.held[serverId] = deadline }
            }
            return lost
        }
    }

    @discardableResult
    public func release(serverId: String, token: String) async throws -> Bool {
        keyspace.update { contents, now in
            guard contents.leaseHolds(serverId, token: token, at: now) else { return false }
            contents.leases[serverId] = nil
            contents.unhold(serverId)
            return true
        }
    }

    public func reacquire(_ leases: [String: String], ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> (fences: [String: Int], replicated: Bool) {
        keyspace.update { contents, now in
            var fences: [String: Int] = [:]
            for (serverId, token) in leases {
                let taken = Self.acquire(
                    serverId: serverId, token: token, ttl: ttl, foreignHeartbeatTimeout: foreignHeartbeatTimeout, in: &contents, at: now)
                if let fence = taken.fence { fences[serverId] = fence }
            }
            return (fences, true)
        }
    }

    public func serverTime() async throws -> Date { keyspace.clock() }

    private static func acquire(
        serverId: String, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?,
        in contents: inout InMemoryKeyspace.Contents, at now: Int64
    ) -> LeaseAcquisition {
        if let timeout = foreignHeartbeatTimeout, timeout > .zero, let stored = contents.states[serverId],
           let state = try? ConnectionState.decode(stored), !state.isWrittenByPool, state.status.isUp,
           InMemoryKeyspace.milliseconds(state.lastHeartbeat) + InMemoryKeyspace.milliseconds(timeout) > now {
            return .foreignSessionLive
        }
        guard contents.value(contents.leases[serverId], at: now) == nil else { return .heldByAnother }
        contents.leases[serverId] = .init(value: token, expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
        let fence = contents.fences[serverId, default: 0] + 1
        contents.fences[serverId] = fence
        return .acquired(fence: fence)
    }
}

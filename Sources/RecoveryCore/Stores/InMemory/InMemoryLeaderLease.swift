/// The scheduler leader lease in memory: taken when free, kept and released only by its token.
public struct InMemoryLeaderLease: LeaderLease {
    let keyspace: InMemoryKeyspace

    public func hold(token: String, ttl: Duration) async throws -> Bool {
        keyspace.update { contents, now in
            let holder = contents.value(contents.leader, at: now)
            guard holder == nil || holder == token else { return false }
            contents.leader = .init(value: token, expiresAt: now + InMemoryKeyspace.milliseconds(ttl))
            return true
        }
    }

    public func release(token: String) async throws {
        keyspace.update { contents, now in
            if contents.value(contents.leader, at: now) == token { contents.leader = nil }
        }
    }
}

/// The scheduler's leader lease (SPEC §5 `mcp:recovery:scheduler:leader`): one scheduler plans at a time.
public protocol LeaderLease: Sendable {
    /// Takes or keeps the lease for `token`; returns whether this token leads.
    func hold(token: String, ttl: Duration) async throws -> Bool
    /// Gives up the lease if this token holds it.
    func release(token: String) async throws
}

import Foundation

/// Endpoint leases (SPEC §5 `mcp:recovery:lease:{id}`): who may hold an endpoint's session. Every
/// implementation keeps the same atomic rules: a lease is taken only when free (and, when asked, only when
/// no live session of another owner is recorded), renewed and released only by the token that holds it.
public protocol LeaseStore: Sendable {
    /// Takes the endpoint's lease for `token`, unless someone holds it or, with `foreignHeartbeatTimeout`,
    /// a live session that is not the pool's has a heartbeat younger than that (one atomic step).
    func acquire(endpointId: EndpointID, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> LeaseAcquisition
    /// Renews every lease in `leases` (endpoint id → token), moving their deadlines in the held-sessions
    /// index; returns the ids whose lease is lost.
    func renew(_ leases: [EndpointID: String], ttl: Duration) async throws -> Set<EndpointID>
    /// Releases the lease if `token` still holds it (and drops the session from the held-sessions index);
    /// returns whether it did.
    @discardableResult
    func release(endpointId: EndpointID, token: String) async throws -> Bool
    /// Takes the leases of `leases` again at once; returns the fencing number of each one taken and whether
    /// the replicas the store waits for acknowledged the takes.
    func reacquire(_ leases: [EndpointID: String], ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> (fences: [EndpointID: Int], replicated: Bool)
    /// The store's clock, which leases expire and heartbeats are judged on.
    func serverTime() async throws -> Date
}

extension LeaseStore {
    /// Takes the endpoint's lease for `token` whatever its recorded state; the fencing number, or nil
    /// when someone holds it.
    public func acquire(endpointId: EndpointID, token: String, ttl: Duration) async throws -> Int? {
        try await acquire(endpointId: endpointId, token: token, ttl: ttl, foreignHeartbeatTimeout: nil).fence
    }

    public func reacquire(_ leases: [EndpointID: String], ttl: Duration) async throws -> (fences: [EndpointID: Int], replicated: Bool) {
        try await reacquire(leases, ttl: ttl, foreignHeartbeatTimeout: nil)
    }
}

import Foundation

/// Endpoint session states (SPEC §5 `mcp:connection:{id}`, its index and the held-sessions index) as the
/// lease holder writes them, and the settlement of the job that opened a session. Every write that
/// depends on the lease checks its token in the same atomic step.
public protocol SessionStates: Sendable {
    /// Writes the endpoint's state if `token` holds its lease; false when it does not.
    func write(_ state: ConnectionState, token: String) async throws -> Bool
    /// Writes many encoded states at once (heartbeats); returns the ids whose lease is not held (nothing
    /// is written for them).
    func write(_ writes: [StateWrite]) async throws -> Set<EndpointID>
    /// Deletes the endpoint's state and releases its lease in one step, if `token` holds the lease: a
    /// heartbeat written between two separate steps would leave a Connected state behind.
    @discardableResult
    func releaseSession(endpointId: EndpointID, token: String) async throws -> Bool
    /// Writes the state of a session that just came up and settles its job: false when `token` no longer
    /// holds the lease, and then only the job's pending marker goes (if it names `jobId`).
    func commitRecovered(_ state: ConnectionState, token: String, jobId: String) async throws -> Bool
    /// Applies what a settled job means for its endpoint's pending marker and park.
    func settle(_ disposition: ResultDisposition, endpointId: EndpointID, jobId: String) async throws
    /// The endpoint's state, as stored.
    func read(endpointId: EndpointID) async throws -> StateReading
}

extension SessionStates {
    /// Writes many states at once; returns the ids whose lease is not held.
    public func write(_ states: [(state: ConnectionState, token: String)]) async throws -> Set<EndpointID> {
        try await write(states.map { StateWrite(endpointId: $0.state.endpointId, value: $0.state.encoded(), token: $0.token) })
    }
}

/// What the operator commands and the console read and change beyond the other roles: status readings,
/// a manual retry's markers, and the leader's last cycle.
public protocol OperatorView: Sendable {
    /// The states of `endpointIds` and every park.
    func statusReadings(endpointIds: [EndpointID]) async throws -> EndpointStateReadings
    /// Before an operator's retry jobs are published: ends the endpoints' parks and points their pending
    /// markers at the new jobs; returns the park entries it removed (to undo).
    func prepareManualRetry(jobs: [RecoveryJob], pendingTtl: Duration) async throws -> [EndpointID: String]
    /// Undoes `prepareManualRetry` for jobs that were not published.
    func undoManualRetry(jobs: [RecoveryJob], previousParks: [EndpointID: String]) async throws
    /// Stores the leader's latest cycle.
    func recordLastCycle(_ summary: CycleSummary) async throws
    /// The leader's latest cycle, or nil when none ran recently.
    func lastCycle() async throws -> CycleSummary?
}

/// What `scheduler status` reads of the live side for a set of endpoints.
public struct EndpointStateReadings: Sendable, Equatable {
    /// `mcp:connection:{id}` of each id that has one.
    public var states: [EndpointID: StateReading]
    /// The readable entries of `mcp:recovery:parked`.
    public var parked: [EndpointID: ParkedEndpoint]

    public init(states: [EndpointID: StateReading], parked: [EndpointID: ParkedEndpoint]) {
        self.states = states
        self.parked = parked
    }
}

import Foundation

/// What one reconcile pass read from Redis (`ReconcileReader.observe`).
public struct RedisObservation: Sendable {
    /// States, leases and index membership of the ids read key by key.
    public var observations: [EndpointID: LiveObservation]
    /// Ids read key by key that have a pending-job marker, and the job id each names.
    public var pending: [EndpointID: String]
    public var parked: [EndpointID: ParkedEndpoint]
    public var lastAttempts: [EndpointID: Date]
    /// The enabled endpoints, what the held-sessions index vouches for (nothing on a full read), what was read.
    public var scope: ReconcileScope
    /// How many ids were read key by key.
    public var keysRead: Int
    /// Whether every enabled id and every indexed id was read key by key.
    public var fullRead: Bool
    /// The Redis server's time of the read, milliseconds since 1970 (the clock of the lease deadlines).
    public var serverTime: Int64

    public init(
        observations: [EndpointID: LiveObservation], pending: [EndpointID: String], parked: [EndpointID: ParkedEndpoint],
        lastAttempts: [EndpointID: Date], scope: ReconcileScope, keysRead: Int, fullRead: Bool, serverTime: Int64
    ) {
        self.observations = observations
        self.pending = pending
        self.parked = parked
        self.lastAttempts = lastAttempts
        self.scope = scope
        self.keysRead = keysRead
        self.fullRead = fullRead
        self.serverTime = serverTime
    }

    /// The planner's input at `now`.
    public func input(now: Date, jobQueuesIdle: Bool = false) -> ReconcileInput {
        ReconcileInput(
            scope: scope, observations: observations, pending: pending, jobQueuesIdle: jobQueuesIdle, parked: parked,
            lastAttempts: lastAttempts, now: now)
    }
}

import Foundation
import RecoveryCore

/// What one reconcile pass read from Redis (`SessionStateStore.observe`).
public struct RedisObservation: Sendable {
    /// States, leases and index membership of the ids read key by key.
    public var observations: [String: LiveObservation]
    /// Ids read key by key that have a pending-job marker.
    public var pending: Set<String>
    public var parked: [String: ParkedEndpoint]
    public var lastAttempts: [String: Date]
    /// What the held-sessions index vouches for (nothing on a full read).
    public var held: HeldSessions
    /// How many ids were read key by key.
    public var keysRead: Int
    /// Whether every enabled id and every indexed id was read key by key.
    public var fullRead: Bool

    /// The planner's input for `enabled` at `now`.
    public func input(enabled: [EnabledEndpoint], now: Date) -> ReconcileInput {
        ReconcileInput(
            enabled: enabled, observations: observations, pending: pending, parked: parked,
            lastAttempts: lastAttempts, held: held, now: now)
    }
}

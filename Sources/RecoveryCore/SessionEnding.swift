/// Why a held session ends.
public enum SessionEnd: Sendable, Equatable {
    /// A stop on the control route (the endpoint was disabled or deleted).
    case stopped
    /// The worker is shutting down: the endpoint is handed to another worker.
    case handoff
    /// The lease was lost (expired or taken): someone else may hold the endpoint now.
    case leaseLost
    /// The lease was not confirmed renewed by its local deadline (Redis unreachable or slow, or this
    /// process paused): closed before another holder can take it.
    case fenced
    /// The peer or the network ended it.
    case lost(FailureCause)
}

/// What ending a held session does (SPEC §7), decided once for each way it ends: how the connection is
/// closed, whether what it left in Redis is released (only while this holder still has the lease), whether
/// the row is marked disconnected, and what job brings the endpoint back. The shell releases, then sends
/// the follow-up, then marks the row: a slow Postgres must not hold the endpoint down.
public struct SessionEnding: Sendable, Equatable {
    /// The close frame sent, when the connection is still open (a lost one is closed already).
    public var close: (code: UInt16, reason: String)?
    /// Delete the state and release the lease, both only while this holder's token is on them.
    public var releaseInRedis: Bool
    /// Mark the row `"IsConnected" = false` (unless a later session came up since).
    public var markDisconnected: Bool
    /// What brings the endpoint back.
    public var follow: FollowUp
    /// The `mcp_recovery_sessions_lost_total` cause, for a session that ended without being asked to.
    public var lostCause: String?

    public enum FollowUp: Sendable, Equatable {
        /// Nothing: the endpoint is disabled, or another holder has it, or the worker is stopping and the
        /// scheduler finds the endpoint missing.
        case nothing
        /// A job for the endpoint at once, with its pending marker.
        case job(RecoveryReason)
        /// The attempt that opened the session failed with the cause: a delayed retry or a dead letter
        /// (`JobAttempt.failed`).
        case failedAttempt(RetryDecision, FailureCause)
    }

    public static func == (lhs: SessionEnding, rhs: SessionEnding) -> Bool {
        lhs.close?.code == rhs.close?.code && lhs.close?.reason == rhs.close?.reason && lhs.releaseInRedis == rhs.releaseInRedis
            && lhs.markDisconnected == rhs.markDisconnected && lhs.follow == rhs.follow && lhs.lostCause == rhs.lostCause
    }

    /// What follows once the release was tried, `answered` saying whether Redis answered it. A job waits on
    /// an answered release: a lease Redis may still hold stands until it lapses, so no worker could take
    /// the job before then, and a stopping worker would spend its grace on more calls to a Redis that does
    /// not answer. The scheduler queues the endpoint once the lease lapses. A failed attempt still goes
    /// through its retry ladder.
    public func follow(releaseAnswered answered: Bool) -> FollowUp {
        guard releaseInRedis, !answered, case .job = follow else { return follow }
        return .nothing
    }

    /// The ending for `end` of a session opened by attempt `attempt` that lived `lived`; `stopping` while
    /// the worker shuts down (no job but the hand-off's goes out then: the scheduler finds the rest).
    public static func of(_ end: SessionEnd, lived: Duration, attempt: Int, stopping: Bool, lossRule: SessionLossRule) -> SessionEnding {
        switch end {
        case .stopped:
            return SessionEnding(close: (1000, "endpoint disabled"), releaseInRedis: true, markDisconnected: true, follow: .nothing, lostCause: nil)
        case .handoff:
            return SessionEnding(close: (1001, "worker shutting down"), releaseInRedis: true, markDisconnected: true, follow: .job(.handoff), lostCause: nil)
        case .leaseLost:
            // Another holder may have the endpoint now: nothing of it is touched.
            return SessionEnding(close: (1001, "lease lost"), releaseInRedis: false, markDisconnected: false, follow: .nothing, lostCause: "lease")
        case .fenced:
            return SessionEnding(
                close: (1001, "lease not confirmed"), releaseInRedis: true, markDisconnected: true,
                follow: stopping ? .nothing : .job(.released), lostCause: "fenced")
        case .lost(let cause):
            let follow: FollowUp
            if stopping {
                follow = .nothing
            } else {
                switch lossRule.decide(lived: lived, attempt: attempt, cause: cause) {
                case .reconnectNow: follow = .job(.released)
                case .failedAttempt(let decision): follow = .failedAttempt(decision, cause)
                }
            }
            return SessionEnding(close: nil, releaseInRedis: true, markDisconnected: true, follow: follow, lostCause: "peer")
        }
    }
}

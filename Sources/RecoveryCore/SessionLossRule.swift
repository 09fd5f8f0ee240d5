/// What follows a held session that ended without being asked to (SPEC §7): a session that dies soon
/// after opening is a failed attempt of the job that opened it (the retry ladder, dead-lettered and parked
/// on a permanent close or when the attempts run out), never an instant reconnect loop; a session that
/// lived past `stableAfter` is simply recovered again at once.
public struct SessionLossRule: Sendable, Equatable {
    /// What to publish for the endpoint.
    public enum Decision: Sendable, Equatable {
        /// A `released` job, attempt 1, at once.
        case reconnectNow
        /// The same job as a failed attempt: the retry ladder decides its delay or its dead letter.
        case failedAttempt(RetryDecision)
    }

    /// How long a session must have lived for its loss not to count against the job that opened it.
    public let stableAfter: Duration
    public let retryPolicy: RetryPolicy

    public init(stableAfter: Duration, retryPolicy: RetryPolicy) {
        self.stableAfter = stableAfter
        self.retryPolicy = retryPolicy
    }

    /// The decision for a session opened by attempt `attempt` that lived `lived` and ended because of `cause`.
    public func decide(lived: Duration, attempt: Int, cause: FailureCause) -> Decision {
        guard lived < stableAfter else { return .reconnectNow }
        return .failedAttempt(retryPolicy.decide(failedAttempt: attempt, kind: cause.kind))
    }
}

/// What follows a held session that ended without being asked to (SPEC §7): a session that dies soon
/// after opening is a failed attempt of the job that opened it, never an instant reconnect loop; a session
/// that lived past `stableAfter` is simply recovered again at once.
///
/// A session that opened proved its address and token, so an early loss parks the endpoint only when it
/// is a permanent close (1008, say) that repeats: a transient loop (Xiaozhi dropping everything again and
/// again) climbs the retry ladder and stays on its last step, and never parks a whole fleet.
public struct SessionLossRule: Sendable, Equatable {
    /// What to publish for the endpoint.
    public enum Decision: Sendable, Equatable {
        /// A `released` job, attempt 1, at once.
        case reconnectNow
        /// The same job as a failed attempt: a delayed retry or a dead letter.
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
        // Attempt 2 on: the attempt before this one failed too.
        if cause.kind == .permanent, attempt > 1 { return .failedAttempt(.deadLetter(.permanent)) }
        let step = retryPolicy.step(afterAttempt: attempt)
        return .failedAttempt(.retry(nextAttempt: attempt + 1, step: step, delaySeconds: retryPolicy.delays[step]))
    }
}

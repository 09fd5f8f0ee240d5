/// What to do after an attempt failed.
public enum RetryDecision: Sendable, Equatable {
    /// Publish the job again with `nextAttempt` through retry step `step` (a TTL queue of `delaySeconds`).
    case retry(nextAttempt: Int, step: Int, delaySeconds: Int)
    /// Dead-letter the job and park the endpoint.
    case deadLetter(DeadLetterReason)
}

/// Why a job was dead-lettered (recorded in the dead message's headers).
public enum DeadLetterReason: String, Sendable, Equatable, Hashable, CaseIterable {
    /// A permanent failure: retrying cannot help.
    case permanent
    /// A transient failure on the last allowed attempt.
    case exhausted
    /// The message could not be decoded.
    case malformed
}

/// Growing retry delays on a fixed ladder, so the broker can hold one TTL queue per step.
/// Attempt n (1-based) that fails transiently is retried after `delays[min(n-1, last)]` seconds, until
/// `maxAttempts` attempts have been made.
public struct RetryPolicy: Sendable, Equatable {
    /// The default ladder: 5 s, 15 s, 45 s, 135 s, 300 s (base 5, factor 3, capped at 300).
    public static let defaultDelays = [5, 15, 45, 135, 300]

    /// Seconds of each step, increasing, each at least 1 (validated by the configuration).
    public let delays: [Int]
    /// Total attempts allowed, including the first.
    public let maxAttempts: Int

    public init(delays: [Int] = RetryPolicy.defaultDelays, maxAttempts: Int = 6) {
        self.delays = delays.isEmpty ? [RetryPolicy.defaultDelays[0]] : delays
        self.maxAttempts = max(1, maxAttempts)
    }

    /// A geometric ladder: base, base·factor, … capped at `cap`, stopping after `cap` is reached or at `maxSteps`.
    public static func ladder(baseSeconds: Int, factor: Int, capSeconds: Int, maxSteps: Int = 10) -> [Int] {
        var steps: [Int] = []
        var delay = max(1, baseSeconds)
        while steps.count < maxSteps {
            if delay >= capSeconds {
                steps.append(capSeconds)
                break
            }
            steps.append(delay)
            let (next, overflow) = delay.multipliedReportingOverflow(by: max(1, factor))
            delay = overflow ? capSeconds : next
            if factor <= 1 { break }
        }
        return steps
    }

    /// The ladder step used to delay the retry of failed attempt `attempt` (1-based).
    public func step(afterAttempt attempt: Int) -> Int {
        min(max(attempt, 1) - 1, delays.count - 1)
    }

    /// The delay in seconds before the retry of failed attempt `attempt`.
    public func delaySeconds(afterAttempt attempt: Int) -> Int {
        delays[step(afterAttempt: attempt)]
    }

    /// Whether failed attempt `attempt` was the last one allowed.
    public func isExhausted(afterAttempt attempt: Int) -> Bool {
        attempt >= maxAttempts
    }

    /// The decision for attempt `attempt` that failed with `kind`.
    public func decide(failedAttempt attempt: Int, kind: FailureKind) -> RetryDecision {
        if kind == .permanent { return .deadLetter(.permanent) }
        if isExhausted(afterAttempt: attempt) { return .deadLetter(.exhausted) }
        let step = step(afterAttempt: attempt)
        return .retry(nextAttempt: attempt + 1, step: step, delaySeconds: delays[step])
    }
}

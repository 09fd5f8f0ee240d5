/// Exponential backoff between reconnect attempts: `initial`, doubling, capped at `maximum`,
/// with up to `jitter` (a fraction) added so many clients do not retry in step.
public struct ReconnectBackoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var jitter: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10), jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The delay before attempt `attempt` (1 is the first retry), without jitter.
    public func baseDelay(attempt: Int) -> Duration {
        let doublings = max(0, min(attempt - 1, 30))
        let delay = initial * (1 << doublings)
        return delay > maximum ? maximum : delay
    }

    /// The delay before attempt `attempt`, with jitter drawn from `random` in 0...1.
    public func delay(attempt: Int, random: Double) -> Duration {
        baseDelay(attempt: attempt) * (1 + jitter * min(max(random, 0), 1))
    }
}

/// How many file descriptors a worker needs for `Worker:MaxSessions` sessions: one socket per session,
/// half as many again for upstream tool calls in flight, and a fixed reserve for the pool's own
/// connections (Redis, Postgres, RabbitMQ, the probe server) and files.
public enum DescriptorBudget {
    public static let reserve = 256

    /// Descriptors `maxSessions` sessions need.
    public static func needed(maxSessions: Int) -> Int {
        maxSessions + maxSessions / 2 + reserve
    }

    /// The most sessions a limit of `descriptors` holds (at least 1).
    public static func sessions(fitting descriptors: Int) -> Int {
        max(1, (descriptors - reserve) * 2 / 3)
    }
}

/// Exponential backoff for reconnect loops: 0.2 s doubling to 10 s.
public struct Backoff: Sendable {
    private var attempt = 0

    public init() {}

    public mutating func next() -> Duration {
        defer { attempt += 1 }
        let milliseconds = min(10_000, 200 * (1 << min(attempt, 6)))
        return .milliseconds(milliseconds)
    }

    public mutating func reset() { attempt = 0 }
}

/// Which lease-renewal failures a worker logs: the first of a run of failed ticks, then one for each full
/// round of renewal slots while the failures go on, so that an outage of Redis logs once per renewal
/// interval rather than once per tick. A successful tick ends the run.
public struct RenewalFailureLog: Sendable, Equatable {
    /// Failed ticks between two logged ones: the number of renewal slots (at least 1).
    public let every: Int
    private var failingTicks = 0

    public init(every: Int) { self.every = max(1, every) }

    /// Counts a failed tick; whether to log it.
    public mutating func failed() -> Bool {
        defer { failingTicks += 1 }
        return failingTicks % every == 0
    }

    /// A tick succeeded: the next failure starts a new run, and is logged.
    public mutating func succeeded() { failingTicks = 0 }
}

/// When a reconcile cycle reads every endpoint's keys rather than trusting the held-sessions index: the
/// first cycle, every `every`th cycle after it, and the cycle after one that failed. The full reads catch
/// what the index cannot see (a state deleted or evicted behind the pool's back, states written by the
/// original platform for endpoints no longer enabled, dangling index entries).
public struct FullReadCadence: Sendable, Equatable {
    public let every: Int
    private var cyclesSinceFull: Int?

    /// `every` is clamped to at least 1 (1: every cycle is a full read).
    public init(every: Int) {
        self.every = max(1, every)
    }

    /// Whether the coming cycle is a full read; counts it.
    public mutating func nextCycleIsFull() -> Bool {
        guard let since = cyclesSinceFull, since + 1 < every else {
            cyclesSinceFull = 0
            return true
        }
        cyclesSinceFull = since + 1
        return false
    }

    /// Makes the next cycle a full read (after a failed cycle, whose reads may not all have landed).
    public mutating func requireFullRead() {
        cyclesSinceFull = nil
    }
}

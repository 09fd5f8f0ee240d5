/// Whether a worker should stop taking jobs to keep the sessions it holds: judged by how late each renewal
/// tick's confirmation comes against the slack its leases allow. Past the slack sessions fence themselves
/// (SPEC §7), their endpoints come back as jobs, and the extra connects make every renewal later still: an
/// overloaded machine would churn instead of catching up. Opening a session can wait; a held one that
/// fences is an outage. So a worker sheds new jobs once a confirmation comes a quarter of the slack late,
/// and takes them again after a whole renewal round comes within a tenth of it.
public struct RenewalPressure: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        /// Stop taking jobs: a confirmation came this late.
        case shed(lateBy: Duration)
        /// Take jobs again.
        case recovered
    }

    /// How late a renewal may be confirmed before the leases it renews reach their local deadline: the
    /// deadline is the previous renewal's send time plus the TTL less the margin, and the next renewal is
    /// due a renewal interval after it.
    public let slack: Duration
    public let shedAbove: Duration
    public let recoverBelow: Duration
    /// Consecutive calm ticks that end shedding: every slot renewed once.
    public let round: Int
    public private(set) var isShedding = false
    private var calmInARow = 0

    public init(timing: LeaseTiming, slots: Int) {
        slack = timing.ttl - timing.safetyMargin - timing.renewalInterval
        shedAbove = slack / 4
        recoverBelow = slack / 10
        round = max(slots, 1)
    }

    /// One renewal tick done, `lateBy` after it was due (the wake-up, the round trip and the bookkeeping).
    public mutating func tick(lateBy: Duration) -> Change? {
        if lateBy > shedAbove {
            calmInARow = 0
            guard !isShedding else { return nil }
            isShedding = true
            return .shed(lateBy: lateBy)
        }
        guard isShedding else { return nil }
        calmInARow = lateBy < recoverBelow ? calmInARow + 1 : 0
        guard calmInARow >= round else { return nil }
        isShedding = false
        calmInARow = 0
        return .recovered
    }
}

/// The local deadline of each held session's lease, on the monotonic clock (SPEC §7, self-fencing): a
/// session whose lease was not confirmed renewed by its deadline is closed by its holder before any other
/// worker can take the lease, whether Redis is unreachable, slow, or this process was paused.
public struct LeaseDeadlines: Sendable {
    public let timing: LeaseTiming
    private var deadlines: [EndpointID: ContinuousClock.Instant] = [:]
    /// No tracked deadline is earlier (deadlines only move later): `takeExpired` scans the sessions only
    /// once one may have expired, not on every check of a worker holding thousands.
    private var noneBefore: ContinuousClock.Instant?

    public init(timing: LeaseTiming) {
        self.timing = timing
    }

    /// Sessions tracked.
    public var count: Int { deadlines.count }

    /// The local deadline of `endpointId`'s lease, if it is tracked.
    public func deadline(of endpointId: EndpointID) -> ContinuousClock.Instant? {
        deadlines[endpointId]
    }

    /// Leases confirmed (taken or renewed) by a request sent at `sentAt`. A deadline never moves back: an
    /// older confirmation arriving late (two renewals in flight) does not shorten a newer one.
    public mutating func confirmed(_ endpointIds: some Sequence<EndpointID>, requestSentAt sentAt: ContinuousClock.Instant) {
        let deadline = timing.localDeadline(confirmedBy: sentAt)
        for id in endpointIds {
            if let current = deadlines[id], current >= deadline { continue }
            if deadlines.updateValue(deadline, forKey: id) == nil { noneBefore = min(noneBefore ?? deadline, deadline) }
        }
    }

    /// Stops tracking a session that ended.
    public mutating func remove(_ endpointId: EndpointID) {
        deadlines.removeValue(forKey: endpointId)
    }

    /// Stops tracking every session.
    public mutating func removeAll() {
        deadlines.removeAll()
        noneBefore = nil
    }

    /// The sessions whose deadline is at or before `now`, sorted; they are no longer tracked. Their
    /// holder must close them now.
    public mutating func takeExpired(at now: ContinuousClock.Instant) -> [EndpointID] {
        if let noneBefore, now < noneBefore { return [] }
        var expired: [EndpointID] = []
        var earliestLeft: ContinuousClock.Instant?
        for (id, deadline) in deadlines {
            if deadline <= now {
                expired.append(id)
            } else if earliestLeft.map({ deadline < $0 }) ?? true {
                earliestLeft = deadline
            }
        }
        for id in expired { deadlines.removeValue(forKey: id) }
        noneBefore = earliestLeft
        return expired.sorted()
    }

    /// The earliest deadline tracked.
    public var earliest: ContinuousClock.Instant? {
        deadlines.values.min()
    }
}

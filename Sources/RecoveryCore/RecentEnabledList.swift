/// The enabled endpoints a cycle read from Postgres, kept for cycles started early because held leases
/// lapsed (a worker died): a dead worker's leases lapse in bursts over a renewal interval, each starting a
/// cycle, and reading every enabled row for each of them costs the scheduler and Postgres time the
/// takeover needs. A list at most one check interval old is as fresh as the regular cycles keep it; a
/// regular cycle always reads anew.
public struct RecentEnabledList: Sendable {
    /// How old a kept list may be and still be used (the check interval).
    public let maxAge: Duration
    private var kept: (endpoints: [EnabledEndpoint], readAt: ContinuousClock.Instant)?

    public init(maxAge: Duration) {
        self.maxAge = maxAge
    }

    /// The kept list, when it was read less than `maxAge` before `now`.
    public func reusable(at now: ContinuousClock.Instant) -> [EnabledEndpoint]? {
        guard let kept, kept.readAt <= now, now - kept.readAt < maxAge else { return nil }
        return kept.endpoints
    }

    /// Keeps `endpoints`, read from Postgres by a read that started at `readAt`.
    public mutating func keep(_ endpoints: [EnabledEndpoint], readAt: ContinuousClock.Instant) {
        kept = (endpoints, readAt)
    }
}

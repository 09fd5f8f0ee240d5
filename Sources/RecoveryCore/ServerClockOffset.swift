import Foundation

/// How far the Redis server's clock is from this host's, measured by `TIME` round trips. Heartbeats are
/// written, and judged, on the server's clock: hosts' clocks drift apart, and a scheduler whose clock runs
/// ahead of a worker's would call that worker's live sessions stale.
public struct ServerClockOffset: Sendable, Equatable {
    /// Server time minus local time, in seconds; 0 until a first measurement.
    public private(set) var offset: TimeInterval = 0
    /// Round trip of the measurement in use; a slower one is only taken when the kept one is old.
    public private(set) var roundTrip: TimeInterval?
    private var measuredAt: Date?

    /// A measurement this slow says more about the link than about the clocks; it replaces a faster one
    /// only after `refreshAfter`.
    public static let refreshAfter: TimeInterval = 60

    public init() {}

    /// Takes a `TIME` reply read between `sentAt` and `receivedAt` (local clock): the server read its
    /// clock, on average, half way through the round trip.
    public mutating func record(serverTime: Date, sentAt: Date, receivedAt: Date) {
        let trip = max(0, receivedAt.timeIntervalSince(sentAt))
        if let kept = roundTrip, let at = measuredAt, trip > kept, receivedAt.timeIntervalSince(at) < Self.refreshAfter {
            return
        }
        offset = serverTime.timeIntervalSince(sentAt.addingTimeInterval(trip / 2))
        roundTrip = trip
        measuredAt = receivedAt
    }

    /// The server's time at local time `local`.
    public func serverTime(at local: Date) -> Date {
        local.addingTimeInterval(offset)
    }
}

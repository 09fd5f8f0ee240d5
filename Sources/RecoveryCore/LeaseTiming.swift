/// The lease's clock rules, defined once: how often a holder renews its leases, and until when it may keep
/// a session open after a renewal it saw confirmed.
public struct LeaseTiming: Sendable, Equatable {
    /// The lease's TTL in Redis (`Recovery:LeaseTtlSeconds`).
    public let ttl: Duration

    public init(ttl: Duration) {
        self.ttl = ttl
    }

    public init(ttlSeconds: Int) {
        self.init(ttl: .seconds(ttlSeconds))
    }

    /// Every lease is renewed once per this interval: a third of the TTL, so that two renewals can fail
    /// before a lease lapses. It follows the TTL: renewals are most of what Redis does per held session, and
    /// a dead worker's leases lapse spread over one interval, which gives its successors that much longer.
    public var renewalInterval: Duration { ttl / 3 }

    /// Kept between a session's local deadline and its lease's expiry in Redis: the time to close the
    /// socket, and the rate difference of two machines' clocks. A tenth of the TTL, from 0.2 s to 1 s.
    public var safetyMargin: Duration { min(max(ttl / 10, .milliseconds(200)), .seconds(1)) }

    /// Until when a holder may keep its session open once a lease request it sent at `sentAt` was confirmed:
    /// Redis started the TTL when it ran the request, which is after `sentAt`, so the lease outlives this.
    public func localDeadline(confirmedBy sentAt: ContinuousClock.Instant) -> ContinuousClock.Instant {
        sentAt + ttl - safetyMargin
    }

    /// The AMQP heartbeat a worker asks for when its URL names none: a frozen worker's unacknowledged
    /// deliveries go back to the queue when the broker misses two heartbeats, so no job waits behind a
    /// paused process much longer than a lease does. A third of the TTL, from 2 s to 30 s.
    public var brokerHeartbeatSeconds: Int {
        min(max(Int(ttl.components.seconds) / 3, 2), 30)
    }

    /// How long the scheduler holds back an endpoint that was live and vanished without a trace (see
    /// `VanishGrace`): two renewal intervals and a second, time for its holder to re-take the lease.
    public var vanishGraceSeconds: Double {
        let renewal = renewalInterval.components
        return (Double(renewal.seconds) + Double(renewal.attoseconds) * 1e-18) * 2 + 1
    }

    /// The deadline of every Redis command a worker sends: a call that hangs on a sick link holds the
    /// renewals queued behind it for at most a third of the TTL, from 1 s to 10 s.
    public var redisCommandTimeout: Duration {
        min(max(ttl / 3, .seconds(1)), .seconds(10))
    }
}

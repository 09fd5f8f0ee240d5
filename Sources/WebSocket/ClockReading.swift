/// A `ContinuousClock` instant kept as its distance from one reference instant of the process.
///
/// `ContinuousClock.Instant` is a resilient type of the standard library: its layout is unknown at compile
/// time, so a struct that stores one is sized, copied and destroyed through runtime witnesses, and so is
/// every enum that carries that struct. The connection state machine is copied and examined on every
/// event, so it stores its times as these (a `Duration` has a fixed layout); the public API still speaks
/// `ContinuousClock.Instant`.
struct ClockReading: Comparable, Sendable {
    /// The time since `ClockReading.reference` (negative before it).
    var sinceReference: Duration

    /// The reading of `instant`.
    init(_ instant: ContinuousClock.Instant) {
        sinceReference = Self.reference.duration(to: instant)
    }

    private init(sinceReference: Duration) {
        self.sinceReference = sinceReference
    }

    /// The instant this reading stands for.
    var instant: ContinuousClock.Instant { Self.reference.advanced(by: sinceReference) }

    /// This reading moved by `duration`.
    func advanced(by duration: Duration) -> ClockReading {
        ClockReading(sinceReference: sinceReference + duration)
    }

    static func < (lhs: ClockReading, rhs: ClockReading) -> Bool { lhs.sinceReference < rhs.sinceReference }

    private static let reference = ContinuousClock.now
}

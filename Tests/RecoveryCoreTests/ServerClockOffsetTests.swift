import Foundation
import Testing
import RecoveryCore

@Suite struct ServerClockOffsetTests {
    let base = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func unmeasuredIsThisHostsClock() {
        #expect(ServerClockOffset().serverTime(at: base) == base)
    }

    @Test func theServerReadItsClockHalfWayThroughTheRoundTrip() {
        var clock = ServerClockOffset()
        // Sent at base, answered 0.2 s later; the server said base + 5.1 (its clock 5 s ahead).
        clock.record(serverTime: base.addingTimeInterval(5.1), sentAt: base, receivedAt: base.addingTimeInterval(0.2))
        #expect(abs(clock.offset - 5) < 1e-9)
        #expect(abs(clock.serverTime(at: base.addingTimeInterval(10)).timeIntervalSince(base) - 15) < 1e-9)
    }

    @Test func aSlowerRoundTripDoesNotReplaceAFastOneUntilItIsOld() {
        var clock = ServerClockOffset()
        clock.record(serverTime: base.addingTimeInterval(-2), sentAt: base, receivedAt: base)
        // A round trip of 4 s (a link stalled): its midpoint guess is off by up to 2 s.
        let later = base.addingTimeInterval(10)
        clock.record(serverTime: later, sentAt: later, receivedAt: later.addingTimeInterval(4))
        #expect(clock.offset == -2)
        // A faster one replaces it at once.
        clock.record(serverTime: later.addingTimeInterval(3), sentAt: later, receivedAt: later)
        #expect(clock.offset == 3)
        // Past `refreshAfter` even a slower one is taken: the kept measurement may have drifted.
        let old = later.addingTimeInterval(ServerClockOffset.refreshAfter + 1)
        clock.record(serverTime: old.addingTimeInterval(1.5), sentAt: old, receivedAt: old.addingTimeInterval(1))
        #expect(abs(clock.offset - 1) < 1e-9)
    }
}

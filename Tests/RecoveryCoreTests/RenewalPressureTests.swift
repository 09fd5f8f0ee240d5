import RecoveryCore
import Testing

/// When a worker stops taking jobs because its renewals come late, and when it takes them again.
@Suite struct RenewalPressureTests {
    let timing = LeaseTiming(ttlSeconds: 4)

    @Test func theSlackIsWhatTheLocalDeadlineLeavesAfterTheNextRenewalIsDue() {
        let pressure = RenewalPressure(timing: timing, slots: 3)
        #expect(pressure.slack == timing.ttl - timing.safetyMargin - timing.renewalInterval)
        #expect(pressure.shedAbove < pressure.slack && pressure.recoverBelow < pressure.shedAbove)
        for ttl in [3, 4, 15, 60, 600] {
            #expect(RenewalPressure(timing: LeaseTiming(ttlSeconds: ttl), slots: 1).slack > .zero, "TTL \(ttl)")
        }
    }

    @Test func onTimeRenewalsNeverShed() {
        var pressure = RenewalPressure(timing: timing, slots: 3)
        for _ in 0..<100 { #expect(pressure.tick(lateBy: pressure.shedAbove) == nil) }
        #expect(!pressure.isShedding)
    }

    @Test func aLateConfirmationShedsOnceAndAWholeCalmRoundRecovers() {
        var pressure = RenewalPressure(timing: timing, slots: 3)
        let late = pressure.shedAbove + .milliseconds(1)
        #expect(pressure.tick(lateBy: late) == .shed(lateBy: late))
        #expect(pressure.tick(lateBy: late * 2) == nil)
        #expect(pressure.isShedding)
        // Two calm ticks, then one between the two thresholds: the count starts again.
        let calm = pressure.recoverBelow - .milliseconds(1)
        #expect(pressure.tick(lateBy: calm) == nil)
        #expect(pressure.tick(lateBy: calm) == nil)
        #expect(pressure.tick(lateBy: pressure.recoverBelow) == nil)
        #expect(pressure.tick(lateBy: calm) == nil)
        #expect(pressure.tick(lateBy: calm) == nil)
        #expect(pressure.tick(lateBy: calm) == .recovered)
        #expect(!pressure.isShedding)
        #expect(pressure.tick(lateBy: late) == .shed(lateBy: late))
    }

    @Test func aLateTickWhileRecoveringStartsTheRoundAgain() {
        var pressure = RenewalPressure(timing: timing, slots: 2)
        let late = pressure.shedAbove + .milliseconds(1)
        _ = pressure.tick(lateBy: late)
        #expect(pressure.tick(lateBy: .zero) == nil)
        #expect(pressure.tick(lateBy: late) == nil)
        #expect(pressure.tick(lateBy: .zero) == nil)
        #expect(pressure.tick(lateBy: .zero) == .recovered)
    }
}

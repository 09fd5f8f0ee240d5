import RecoveryCore
import Testing

/// The local lease deadlines a worker closes its sessions by (self-fencing).
@Suite struct LeaseDeadlinesTests {
    let start = ContinuousClock.now
    let timing = LeaseTiming(ttlSeconds: 6)

    @Test func theDeadlineIsTheRequestTimePlusTheTTLLessTheMargin() {
        var deadlines = LeaseDeadlines(timing: timing)
        deadlines.confirmed(["a"], requestSentAt: start)
        #expect(deadlines.deadline(of: "a") == start + .seconds(6) - timing.safetyMargin)
        #expect(timing.safetyMargin > .zero)
        #expect(timing.safetyMargin < timing.ttl - timing.renewalInterval * 2)
    }

    @Test func aSessionExpiresAtItsDeadlineAndOnlyOnce() {
        var deadlines = LeaseDeadlines(timing: timing)
        deadlines.confirmed(["a", "b"], requestSentAt: start)
        let deadline = deadlines.deadline(of: "a")!
        #expect(deadlines.takeExpired(at: deadline - .milliseconds(1)).isEmpty)
        #expect(deadlines.takeExpired(at: deadline) == ["a", "b"])
        #expect(deadlines.takeExpired(at: deadline + .seconds(10)).isEmpty)
        #expect(deadlines.count == 0)
    }

    @Test func aConfirmedRenewalMovesTheDeadline() {
        var deadlines = LeaseDeadlines(timing: timing)
        deadlines.confirmed(["a", "b"], requestSentAt: start)
        deadlines.confirmed(["a"], requestSentAt: start + .seconds(2))
        let firstDeadline = start + .seconds(6) - timing.safetyMargin
        #expect(deadlines.takeExpired(at: firstDeadline) == ["b"])
        #expect(deadlines.takeExpired(at: firstDeadline + .seconds(2)) == ["a"])
    }

    @Test func aLateOlderConfirmationNeverShortensTheDeadline() {
        var deadlines = LeaseDeadlines(timing: timing)
        deadlines.confirmed(["a"], requestSentAt: start + .seconds(2))
        deadlines.confirmed(["a"], requestSentAt: start)
        #expect(deadlines.deadline(of: "a") == start + .seconds(8) - timing.safetyMargin)
    }

    @Test func aSessionAddedWithAnEarlierDeadlineThanTheOthersExpiresOnTime() {
        var deadlines = LeaseDeadlines(timing: timing)
        deadlines.confirmed(["a"], requestSentAt: start + .seconds(3))
        // A check finds nothing due; a session confirmed by an older request then joins with an earlier deadline.
        #expect(deadlines.takeExpired(at: start + .seconds(1)).isEmpty)
        deadlines.confirmed(["b"], requestSentAt: start)
        let early = start + .seconds(6) - timing.safetyMargin
        #expect(deadlines.takeExpired(at: early) == ["b"])
        // Renewed after the checks began: the one left expires at its new deadline, not before.
        deadlines.confirmed(["a"], requestSentAt: start + .seconds(5))
        #expect(deadlines.takeExpired(at: start + .seconds(9) - timing.safetyMargin).isEmpty)
        #expect(deadlines.takeExpired(at: start + .seconds(11) - timing.safetyMargin) == ["a"])
        deadlines.removeAll()
        deadlines.confirmed(["c"], requestSentAt: start)
        #expect(deadlines.takeExpired(at: early) == ["c"])
    }

    @Test func aRemovedSessionNeverExpires() {
        var deadlines = LeaseDeadlines(timing: timing)
        deadlines.confirmed(["a", "b"], requestSentAt: start)
        deadlines.remove("a")
        #expect(deadlines.takeExpired(at: start + .seconds(60)) == ["b"])
        #expect(deadlines.earliest == nil)
    }

    @Test func theEarliestDeadlineIsTheOldestConfirmation() {
        var deadlines = LeaseDeadlines(timing: timing)
        deadlines.confirmed(["late"], requestSentAt: start + .seconds(1))
        deadlines.confirmed(["early"], requestSentAt: start)
        #expect(deadlines.earliest == deadlines.deadline(of: "early"))
    }

    @Test func renewalsComeTwiceBeforeTheDeadlineAtEveryTTL() {
        // Two renewals can fail and the third still lands before the session must close.
        for ttl in [3, 4, 6, 15, 60, 600] {
            let timing = LeaseTiming(ttlSeconds: ttl)
            #expect(timing.renewalInterval * 2 < timing.ttl - timing.safetyMargin, "TTL \(ttl)")
            #expect(timing.safetyMargin >= .milliseconds(200) && timing.safetyMargin <= .seconds(1), "TTL \(ttl)")
        }
        #expect(LeaseTiming(ttlSeconds: 15).renewalInterval == .seconds(5))
        #expect(LeaseTiming(ttlSeconds: 3).renewalInterval == .seconds(1))
    }

    @Test func aFrozenWorkersDeliveriesReturnAboutALeaseLater() {
        // The broker gives up on a silent connection after two missed heartbeats.
        for ttl in [6, 15, 30, 90] {
            #expect(2 * LeaseTiming(ttlSeconds: ttl).brokerHeartbeatSeconds <= ttl, "TTL \(ttl)")
        }
        #expect(LeaseTiming(ttlSeconds: 4).brokerHeartbeatSeconds == 2)
        #expect(LeaseTiming(ttlSeconds: 15).brokerHeartbeatSeconds == 5)
        #expect(LeaseTiming(ttlSeconds: 600).brokerHeartbeatSeconds == 30)
    }

    @Test func aWorkersRedisCommandsFailWellBeforeItsLeasesLapse() {
        #expect(LeaseTiming(ttlSeconds: 2).redisCommandTimeout == .seconds(1))
        #expect(LeaseTiming(ttlSeconds: 15).redisCommandTimeout == .seconds(5))
        #expect(LeaseTiming(ttlSeconds: 600).redisCommandTimeout == .seconds(10))
    }
}

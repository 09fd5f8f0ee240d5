import Foundation
import Testing
import RecoveryCore

/// Endpoints that were live and vanished without a trace are held back for a grace period (their holder
/// re-takes the lease after Redis lost its data); everything else goes out at once.
@Suite struct VanishGraceTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func missing(_ id: EndpointID) -> PlannedJob { PlannedJob(endpointId: id, endpointName: id.rawValue, reason: .missing) }

    @Test func aVanishedEndpointIsHeldBackUntilTheGraceEnds() {
        var grace = VanishGrace(grace: 5)
        _ = grace.filter([], live: ["a", "b"], now: start)
        // "a" vanished; "c" was never live.
        var (publish, deferred) = grace.filter([missing("a"), missing("c")], live: ["b"], now: start.addingTimeInterval(2))
        #expect(publish.map(\.endpointId) == ["c"] && deferred == ["a"])
        (publish, deferred) = grace.filter([missing("a")], live: ["b"], now: start.addingTimeInterval(6))
        #expect(publish.map(\.endpointId) == [] && deferred == ["a"])
        (publish, deferred) = grace.filter([missing("a")], live: ["b"], now: start.addingTimeInterval(7.5))
        #expect(publish.map(\.endpointId) == ["a"] && deferred.isEmpty)
    }

    @Test func anEndpointLiveAgainStartsAFreshGrace() {
        var grace = VanishGrace(grace: 5)
        _ = grace.filter([], live: ["a"], now: start)
        _ = grace.filter([missing("a")], live: [], now: start.addingTimeInterval(1))
        // Its holder re-took it.
        _ = grace.filter([], live: ["a"], now: start.addingTimeInterval(2))
        let (publish, deferred) = grace.filter([missing("a")], live: [], now: start.addingTimeInterval(10))
        #expect(publish.isEmpty && deferred == ["a"])
    }

    @Test func staleJobsAreNeverHeldBack() {
        var grace = VanishGrace(grace: 5)
        _ = grace.filter([], live: ["a"], now: start)
        let stale = PlannedJob(endpointId: "a", endpointName: "a", reason: .stale, staleReason: .heartbeatExpired)
        #expect(grace.filter([stale], live: [], now: start.addingTimeInterval(1)).publish == [stale])
    }

    @Test func theGraceCoversTwoRenewalsOfTheLease() {
        #expect(LeaseTiming(ttlSeconds: 15).vanishGraceSeconds == 11)
        #expect(LeaseTiming(ttlSeconds: 3).vanishGraceSeconds == 3)
    }
}

@Suite struct BackoffTests {
    @Test func doublesFromAFifthOfASecondToTenSecondsAndResets() {
        var backoff = Backoff()
        let delays = (0..<9).map { _ in backoff.next() }
        #expect(delays == [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000].map { .milliseconds($0) })
        backoff.reset()
        #expect(backoff.next() == .milliseconds(200))
    }
}

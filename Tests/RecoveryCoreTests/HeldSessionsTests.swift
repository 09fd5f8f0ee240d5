import Foundation
import Testing
@testable import RecoveryCore

@Suite struct HeldSessionsTests {
    typealias F = Fixture

    @Test func aFirstReadingTakesTheMembers() {
        var cache = HeldSessionsCache()
        let held = cache.apply(HeldSessionsReading(version: "7", lapsed: ["b"], members: ["a", "b"]))
        #expect(cache.version == "7")
        #expect(held.vouchesFor("a"))
        #expect(!held.vouchesFor("b"))
        #expect(!held.vouchesFor("c"))
    }

    @Test func aReadingWithoutMembersKeepsTheCachedOnesAndTakesTheNewLapses() {
        var cache = HeldSessionsCache()
        _ = cache.apply(HeldSessionsReading(version: "7", lapsed: [], members: ["a", "b"]))
        let held = cache.apply(HeldSessionsReading(version: "7", lapsed: ["a"], members: nil))
        #expect(!held.vouchesFor("a"))
        #expect(held.vouchesFor("b"))
    }

    @Test func aReadingWithoutMembersForAnotherVersionVouchesForNothing() {
        var cache = HeldSessionsCache()
        _ = cache.apply(HeldSessionsReading(version: "7", lapsed: [], members: ["a"]))
        let held = cache.apply(HeldSessionsReading(version: "8", lapsed: [], members: nil))
        #expect(held.count == 0)
        #expect(cache.version.isEmpty)
    }

    @Test func anEmptyVersionIsNeverTrustedWithoutMembers() {
        var cache = HeldSessionsCache()
        #expect(cache.apply(HeldSessionsReading(version: "", lapsed: [], members: nil)).count == 0)
    }

    private func endpoints(_ ids: [EndpointID]) -> [EnabledEndpoint] { ids.map { F.endpoint($0) } }

    @Test func idsToReadAreTheEnabledNotVouchedForThenTheMembersNotEnabledSorted() {
        let held = HeldSessions(members: ["a", "b", "z", "y"], lapsed: ["b"])
        #expect(ReconcileScope(enabled: endpoints(["c", "a", "b"]), held: held).idsToRead == ["c", "b", "y", "z"])
        #expect(ReconcileScope(enabled: endpoints(["a", "b", "c"]), held: HeldSessions(members: ["a", "b"], lapsed: [])).idsToRead == ["c"])
        #expect(ReconcileScope(enabled: endpoints(["b", "a"]), held: .none).idsToRead == ["b", "a"])
    }

    @Test func aScopeKeepsEachEnabledIdOnceWhetherHeldOrNot() {
        let scope = ReconcileScope(enabled: endpoints(["a", "c", "a", "c", "b"]), held: HeldSessions(members: ["a"], lapsed: []))
        #expect(scope.endpoints.map(\.id) == ["a", "c", "b"])
        #expect(scope.idsToRead == ["c", "b"])
    }

    @Test func aScopeReadsTheExtraIdsThatAreNotEnabledOnce() {
        let scope = ReconcileScope(enabled: endpoints(["a", "b"]), held: HeldSessions(members: ["x"], lapsed: []), alsoRead: ["b", "x", "y"])
        #expect(scope.notEnabled == ["x", "y"])
        #expect(scope.isEnabled("a") && scope.isEnabled("b"))
        #expect(!scope.isEnabled("x") && !scope.isEnabled("y"))
    }

    @Test func theFirstCycleAndEveryNthAreFullReads() {
        var cadence = FullReadCadence(every: 3)
        let pattern = (0..<7).map { _ in cadence.nextCycleIsFull() }
        #expect(pattern == [true, false, false, true, false, false, true])
    }

    @Test func aFailedCycleMakesTheNextOneFull() {
        var cadence = FullReadCadence(every: 10)
        var pattern = [cadence.nextCycleIsFull(), cadence.nextCycleIsFull()]
        cadence.requireFullRead()
        pattern += [cadence.nextCycleIsFull(), cadence.nextCycleIsFull()]
        #expect(pattern == [true, false, true, false])
    }

    @Test func everyOneReadsEveryCycleInFull() {
        var cadence = FullReadCadence(every: 1)
        let pattern = (0..<4).map { _ in cadence.nextCycleIsFull() }
        #expect(pattern == [true, true, true, true])
        #expect(FullReadCadence(every: 0).every == 1)
    }

    // MARK: the planner with the index

    private func plan(_ enabled: [EnabledEndpoint], _ observations: [EndpointID: LiveObservation] = [:], held: HeldSessions,
                      parked: [EndpointID: ParkedEndpoint] = [:], pending: [EndpointID: String] = [:]) -> ReconcilePlan {
        ReconcilePlanner(policy: F.policy).plan(ReconcileInput(
            enabled: enabled, observations: observations, pending: pending, parked: parked, held: held, now: F.now))
    }

    @Test func aVouchedForSessionIsLiveWithoutBeingRead() {
        let result = plan([F.endpoint("a"), F.endpoint("b")], held: HeldSessions(members: ["a"], lapsed: []))
        #expect(result.report.live == ["a"])
        #expect(result.report.missing == ["b"])
        #expect(result.jobs.map(\.endpointId) == ["b"])
    }

    @Test func whatWasReadOverridesTheIndex() {
        let stale = F.observed(F.state("a", heartbeatAgo: 500), lease: true)
        let result = plan([F.endpoint("a")], ["a": stale], held: HeldSessions(members: ["a"], lapsed: []))
        #expect(result.report.stale == ["a"])
        #expect(result.jobs.map(\.endpointId) == ["a"])
    }

    @Test func aLapsedMemberIsNotVouchedFor() {
        let result = plan([F.endpoint("a")], held: HeldSessions(members: ["a"], lapsed: ["a"]))
        #expect(result.report.missing == ["a"])
        #expect(result.heldToForget == ["a"])
    }

    @Test func aLapsedMemberWhoseLeaseIsGoneIsStaleAndForgotten() {
        let result = plan([F.endpoint("a")], ["a": F.observed(F.state("a"), lease: false)], held: HeldSessions(members: ["a"], lapsed: ["a"]))
        #expect(result.staleStates.map(\.reason) == [.leaseLost])
        #expect(result.heldToForget == ["a"])
    }

    @Test func aLapsedMemberStillLeasedByThePoolIsKept() {
        let result = plan([F.endpoint("a")], ["a": F.observed(F.state("a"), lease: true)], held: HeldSessions(members: ["a"], lapsed: ["a"]))
        #expect(result.report.live == ["a"])
        #expect(result.heldToForget.isEmpty)
    }

    @Test func aLapsedMemberNowHeldByTheOriginalIsForgottenAndStaysLive() {
        let original = F.observed(F.state("a", pool: false), lease: true)
        let result = plan([F.endpoint("a")], ["a": original], held: HeldSessions(members: ["a"], lapsed: ["a"]))
        #expect(result.report.live == ["a"])
        #expect(result.heldToForget == ["a"])
    }

    @Test func aVouchedForSessionEndsItsPark() {
        let parked = ParkedEndpoint(endpointId: "a", reason: "401", kind: .permanent, parkedAt: F.now.addingTimeInterval(-10))
        let result = plan([F.endpoint("a")], held: HeldSessions(members: ["a"], lapsed: []), parked: ["a": parked])
        #expect(result.report.live == ["a"])
        #expect(result.parkedToClear == ["a"])
    }
}

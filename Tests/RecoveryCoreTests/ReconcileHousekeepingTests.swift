import Foundation
import Testing
@testable import RecoveryCore

/// The planner's housekeeping rules: records that would otherwise grow without bound (cooldown clocks of
/// endpoints gone, records of workers gone) are planned for removal, and nothing still in use is.
@Suite struct ReconcileHousekeepingTests {
    typealias F = Fixture

    private func plan(enabled: [EndpointID], lastAttempts: [EndpointID], workers: [String: Bool] = [:], observed: [EndpointID] = []) -> ReconcilePlan {
        let attempts = Dictionary(uniqueKeysWithValues: lastAttempts.map { ($0, F.now.addingTimeInterval(-5)) })
        let observations = Dictionary(uniqueKeysWithValues: observed.map { ($0, F.observed(F.state($0), lease: true)) })
        return ReconcilePlanner(policy: F.policy).plan(ReconcileInput(
            enabled: enabled.map { F.endpoint($0) }, observations: observations, lastAttempts: attempts,
            workerLiveness: workers, now: F.now))
    }

    @Test func cooldownClocksOfEndpointsNoLongerEnabledAreForgotten() {
        let planned = plan(enabled: ["a", "b"], lastAttempts: ["a", "deleted-1", "disabled-2"], observed: ["disabled-2"])
        #expect(planned.attemptsToForget == ["deleted-1", "disabled-2"])
        // The enabled endpoint's clock still spaces its attempts.
        #expect(planned.report.coolingDown == ["a"])
    }

    @Test func cooldownClocksOfEnabledEndpointsVouchedForByTheIndexAreKept() {
        let held = HeldSessions(members: ["a"], lapsed: [])
        let input = ReconcileInput(
            enabled: [F.endpoint("a")], observations: [:], lastAttempts: ["a": F.now, "gone": F.now], held: held, now: F.now)
        let planned = ReconcilePlanner(policy: F.policy).plan(input)
        #expect(planned.attemptsToForget == ["gone"])
    }

    @Test func workerRecordsWhoseLivenessKeyIsGoneAreForgottenAndLiveOnesKept() {
        let planned = plan(enabled: ["a"], lastAttempts: [], workers: ["w-live": true, "w-gone-2": false, "w-gone-1": false])
        #expect(planned.workersToForget == ["w-gone-1", "w-gone-2"])
    }

    @Test func nothingIsForgottenWhenNothingWasRead() {
        let planned = plan(enabled: ["a"], lastAttempts: ["a"])
        #expect(planned.attemptsToForget.isEmpty)
        #expect(planned.workersToForget.isEmpty)
    }
}

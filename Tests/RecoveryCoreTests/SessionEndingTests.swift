import Testing
@testable import RecoveryCore

/// What each way a held session ends does (SPEC §7): who is touched in Redis and the table, and what job
/// brings the endpoint back.
@Suite struct SessionEndingTests {
    static let rule = SessionLossRule(stableAfter: .seconds(30), retryPolicy: RetryPolicy(delays: [5, 15], maxAttempts: 3))

    static func ending(_ end: SessionEnd, lived: Duration = .seconds(600), attempt: Int = 1, stopping: Bool = false) -> SessionEnding {
        SessionEnding.of(end, lived: lived, attempt: attempt, stopping: stopping, lossRule: rule)
    }

    @Test func aStopClosesNormallyReleasesAndBringsNothingBack() {
        let ending = Self.ending(.stopped)
        #expect(ending.close?.code == 1000)
        #expect(ending.releaseInRedis && ending.markDisconnected)
        #expect(ending.follow == .nothing && ending.lostCause == nil)
    }

    @Test func aHandOffPublishesAHandoffJobEvenWhileStopping() {
        let ending = Self.ending(.handoff, stopping: true)
        #expect(ending.close?.code == 1001)
        #expect(ending.releaseInRedis && ending.markDisconnected)
        #expect(ending.follow == .job(.handoff))
    }

    @Test func aLeaseLostToAnotherHolderTouchesNothingOfTheEndpoint() {
        let ending = Self.ending(.leaseLost)
        #expect(!ending.releaseInRedis && !ending.markDisconnected)
        #expect(ending.follow == .nothing)
        #expect(ending.lostCause == "lease")
    }

    @Test func aFencedSessionIsClosedThenReleasedAndRecoveredUnlessTheWorkerStops() {
        #expect(Self.ending(.fenced).close?.reason == "lease not confirmed")
        #expect(Self.ending(.fenced).follow == .job(.released))
        #expect(Self.ending(.fenced, stopping: true).follow == .nothing)
        #expect(Self.ending(.fenced).lostCause == "fenced")
    }

    @Test func aStableSessionLostIsRecoveredAtOnceWithoutAClose() {
        let ending = Self.ending(.lost(.connectionReset))
        #expect(ending.close == nil, "the connection is gone already")
        #expect(ending.releaseInRedis && ending.markDisconnected)
        #expect(ending.follow == .job(.released))
        #expect(ending.lostCause == "peer")
    }

    @Test func aSessionLostSoonAfterOpeningIsAFailedAttempt() {
        let ending = Self.ending(.lost(.connectionReset), lived: .seconds(2), attempt: 1)
        #expect(ending.follow == .failedAttempt(.retry(nextAttempt: 2, step: 0, delaySeconds: 5), .connectionReset))
        let permanent = FailureCause.closed(code: 1008, reason: "")
        #expect(Self.ending(.lost(permanent), lived: .seconds(2), attempt: 2).follow == .failedAttempt(.deadLetter(.permanent), permanent))
    }

    @Test func nothingButTheHandOffGoesOutWhileTheWorkerStops() {
        #expect(Self.ending(.lost(.connectionReset), stopping: true).follow == .nothing)
        #expect(Self.ending(.lost(.connectionReset), lived: .seconds(1), stopping: true).follow == .nothing)
    }

    @Test func aJobWaitsOnAReleaseRedisAnswered() {
        let handoff = Self.ending(.handoff, stopping: true)
        #expect(handoff.follow(releaseAnswered: true) == .job(.handoff))
        #expect(handoff.follow(releaseAnswered: false) == .nothing, "the lease stands until it lapses")
        #expect(Self.ending(.fenced).follow(releaseAnswered: false) == .nothing)
        #expect(Self.ending(.lost(.connectionReset)).follow(releaseAnswered: false) == .nothing)
        let failed = Self.ending(.lost(.connectionReset), lived: .seconds(2))
        #expect(failed.follow(releaseAnswered: false) == failed.follow, "a failed attempt keeps its retry ladder")
        #expect(Self.ending(.leaseLost).follow(releaseAnswered: false) == .nothing)
    }
}

import RecoveryCore
import Testing

/// What a held session's loss leads to: a reconnect, or its opening attempt failed.
@Suite struct SessionLossRuleTests {
    let rule = SessionLossRule(stableAfter: .seconds(30), retryPolicy: RetryPolicy(delays: [1, 2, 3], maxAttempts: 4))

    @Test func aSessionThatLivedPastTheStableTimeIsRecoveredAtOnce() {
        #expect(rule.decide(lived: .seconds(31), attempt: 3, cause: .closed(code: 1008, reason: "revoked")) == .reconnectNow)
        #expect(rule.decide(lived: .seconds(30), attempt: 1, cause: .connectionReset) == .reconnectNow)
    }

    @Test func anEarlyTransientLossIsTheNextStepOfTheLadder() {
        #expect(rule.decide(lived: .seconds(1), attempt: 1, cause: .connectionReset)
            == .failedAttempt(.retry(nextAttempt: 2, step: 0, delaySeconds: 1)))
        #expect(rule.decide(lived: .seconds(1), attempt: 3, cause: .closed(code: 1001, reason: ""))
            == .failedAttempt(.retry(nextAttempt: 4, step: 2, delaySeconds: 3)))
    }

    @Test func anEarlyLossOnTheLastAttemptIsDeadLettered() {
        #expect(rule.decide(lived: .seconds(1), attempt: 4, cause: .connectionReset) == .failedAttempt(.deadLetter(.exhausted)))
    }

    @Test func anEarlyCloseWithPolicyViolationIsDeadLetteredAtOnce() {
        #expect(rule.decide(lived: .milliseconds(50), attempt: 1, cause: .closed(code: 1008, reason: "token revoked"))
            == .failedAttempt(.deadLetter(.permanent)))
    }

    @Test func aCloseLoopCostsOneAttemptPerStepAndEndsDeadLettered() {
        // A session closed right after every open: each loss is the next attempt, never attempt 1 again.
        var attempt = 1
        var delays: [Int] = []
        while case .failedAttempt(.retry(let next, _, let delay)) = rule.decide(lived: .milliseconds(10), attempt: attempt, cause: .connectionReset) {
            delays.append(delay)
            attempt = next
        }
        #expect(delays == [1, 2, 3])
        #expect(rule.decide(lived: .milliseconds(10), attempt: attempt, cause: .connectionReset) == .failedAttempt(.deadLetter(.exhausted)))
    }
}

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

    @Test func aTransientLossLoopStaysOnTheLastStepAndNeverParks() {
        // Xiaozhi dropping every session again and again is its outage, not the endpoint's fault.
        var attempt = 1
        var delays: [Int] = []
        for _ in 0..<10 {
            guard case .failedAttempt(.retry(let next, _, let delay)) = rule.decide(lived: .milliseconds(10), attempt: attempt, cause: .closed(code: 1001, reason: "")) else {
                Issue.record("attempt \(attempt) was not retried")
                return
            }
            delays.append(delay)
            attempt = next
        }
        #expect(delays == [1, 2, 3, 3, 3, 3, 3, 3, 3, 3])
    }

    @Test func aFirstEarlyPolicyViolationIsRetriedAndARepeatedOneParks() {
        let revoked = FailureCause.closed(code: 1008, reason: "token revoked")
        #expect(rule.decide(lived: .milliseconds(50), attempt: 1, cause: revoked) == .failedAttempt(.retry(nextAttempt: 2, step: 0, delaySeconds: 1)))
        #expect(rule.decide(lived: .milliseconds(50), attempt: 2, cause: revoked) == .failedAttempt(.deadLetter(.permanent)))
    }

    @Test func aCloseAfterOpenLoopCostsOneAttemptAndEndsParked() {
        // 1008 right after every open: one retry, then the dead letter; never attempt 1 again.
        var attempt = 1
        var decisions: [SessionLossRule.Decision] = []
        while decisions.count < 10 {
            let decision = rule.decide(lived: .milliseconds(10), attempt: attempt, cause: .closed(code: 1008, reason: "revoked"))
            decisions.append(decision)
            guard case .failedAttempt(.retry(let next, _, _)) = decision else { break }
            attempt = next
        }
        #expect(decisions == [.failedAttempt(.retry(nextAttempt: 2, step: 0, delaySeconds: 1)), .failedAttempt(.deadLetter(.permanent))])
    }
}

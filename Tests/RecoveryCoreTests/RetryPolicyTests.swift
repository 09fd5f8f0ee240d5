import Testing
@testable import RecoveryCore

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(delays: [5, 15, 45, 135, 300], maxAttempts: 6)

    @Test func defaultLadderIsBaseFiveFactorThreeCappedAtThreeHundred() {
        #expect(RetryPolicy.ladder(baseSeconds: 5, factor: 3, capSeconds: 300) == [5, 15, 45, 135, 300])
        #expect(RetryPolicy.defaultDelays == [5, 15, 45, 135, 300])
    }

    @Test func ladderStopsAtMaxStepsOrWithAFactorOfOne() {
        #expect(RetryPolicy.ladder(baseSeconds: 1, factor: 2, capSeconds: 10_000, maxSteps: 4) == [1, 2, 4, 8])
        #expect(RetryPolicy.ladder(baseSeconds: 7, factor: 1, capSeconds: 100) == [7])
        #expect(RetryPolicy.ladder(baseSeconds: 500, factor: 3, capSeconds: 300) == [300])
    }

    @Test func attemptNUsesStepNMinusOneThenTheLastStep() {
        #expect((1...8).map { policy.step(afterAttempt: $0) } == [0, 1, 2, 3, 4, 4, 4, 4])
        #expect((1...6).map { policy.delaySeconds(afterAttempt: $0) } == [5, 15, 45, 135, 300, 300])
    }

    @Test func transientFailureIsRetriedWithTheNextAttempt() {
        #expect(policy.decide(failedAttempt: 1, kind: .transient) == .retry(nextAttempt: 2, step: 0, delaySeconds: 5))
        #expect(policy.decide(failedAttempt: 5, kind: .transient) == .retry(nextAttempt: 6, step: 4, delaySeconds: 300))
    }

    @Test func lastAllowedAttemptIsDeadLettered() {
        #expect(policy.decide(failedAttempt: 6, kind: .transient) == .deadLetter(.exhausted))
        #expect(policy.decide(failedAttempt: 9, kind: .transient) == .deadLetter(.exhausted))
        #expect(policy.isExhausted(afterAttempt: 6))
        #expect(!policy.isExhausted(afterAttempt: 5))
    }

    @Test func permanentFailureIsDeadLetteredAtOnce() {
        #expect(policy.decide(failedAttempt: 1, kind: .permanent) == .deadLetter(.permanent))
    }

    @Test func singleAttemptPolicyNeverRetries() {
        #expect(RetryPolicy(delays: [5], maxAttempts: 1).decide(failedAttempt: 1, kind: .transient) == .deadLetter(.exhausted))
    }

    @Test func stepForAttemptZeroOrLessIsTheFirst() {
        #expect(policy.step(afterAttempt: 0) == 0)
    }
}

@Suite struct FailureClassifierTests {
    @Test(arguments: [
        FailureCause.malformedAddress("not a url"), .unsupportedScheme("http"),
        .handshakeRejected(status: 401), .handshakeRejected(status: 403), .handshakeRejected(status: 404),
        .closed(code: 1008, reason: "policy"),
    ])
    func permanentCauses(cause: FailureCause) {
        #expect(FailureClassifier.classify(cause) == .permanent)
        #expect(cause.jobError.kind == .permanent)
    }

    @Test(arguments: [
        FailureCause.connectionRefused, .timeout(phase: "connect"), .connectionReset,
        .handshakeRejected(status: 500), .handshakeRejected(status: 502), .handshakeRejected(status: 503),
        .handshakeRejected(status: 429), .handshakeRejected(status: 400), .tlsHandshakeFailed("unexpected EOF"),
        .certificateRejected("self-signed"), .closed(code: 1000, reason: ""), .closed(code: 1006, reason: ""),
        .closed(code: 1011, reason: "restart"), .nameResolutionFailed(host: "api.xiaozhi.me"),
        .protocolViolation("masked server frame"), .other("boom"),
    ])
    func transientCauses(cause: FailureCause) {
        #expect(FailureClassifier.classify(cause) == .transient)
    }

    @Test func messagesAreReadableAndCarryNoToken() {
        #expect(FailureCause.handshakeRejected(status: 401).message == "WebSocket handshake rejected with HTTP 401")
        #expect(FailureCause.closed(code: 1008, reason: "bad token").message == "closed by server with code 1008: bad token")
        #expect(FailureCause.closed(code: 1006, reason: "").message == "closed by server with code 1006")
        let malformed = FailureCause.malformedAddress("wss//api.xiaozhi.me/mcp/?token=SECRET").message
        #expect(!malformed.contains("SECRET"))
        #expect(FailureCause.unsupportedScheme("http").jobError == JobError(kind: .permanent, message: "unsupported scheme 'http' (expected ws or wss)"))
    }

    @Test func longCloseReasonsAreTruncated() {
        let message = FailureCause.closed(code: 1011, reason: String(repeating: "r", count: 400)).message
        #expect(message.count < 170)
    }
}

@Suite struct AddressProblemTests {
    @Test(arguments: ["wss://api.xiaozhi.me/mcp/?token=abc", "ws://127.0.0.1:9000/mcp", "WSS://Host/x"])
    func usableAddressesHaveNoProblem(address: String) {
        #expect(FailureCause.addressProblem(address) == nil)
    }

    @Test func otherSchemesAreUnsupported() {
        #expect(FailureCause.addressProblem("https://api.xiaozhi.me/mcp/?token=abc") == .unsupportedScheme("https"))
    }

    @Test(arguments: ["", "not a url", "wss://", "wss:///path?token=abc", "ws://host:70000/x", "api.xiaozhi.me/mcp"])
    func malformedAddressesArePermanentAndRedacted(address: String) throws {
        let problem = try #require(FailureCause.addressProblem(address))
        #expect(problem.kind == .permanent)
        #expect(!problem.message.contains("token=abc"))
    }
}

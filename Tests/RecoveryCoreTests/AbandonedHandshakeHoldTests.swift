import RecoveryCore
import Testing

@Suite struct AbandonedHandshakeHoldTests {
    let connectTimeout = Duration.seconds(15)

    @Test(arguments: ["connect (whole open)", "WebSocket handshake", "handshake"])
    func anOpenAbandonedAfterTheRequestKeepsTheLeaseForOneMoreConnectTimeout(phase: String) {
        #expect(AbandonedHandshakeHold.duration(after: .timeout(phase: phase), connectTimeout: connectTimeout) == connectTimeout)
    }

    @Test(arguments: ["resolve", "connect", "tls"])
    func aTimeoutBeforeTheRequestWasWrittenHoldsNothing(phase: String) {
        #expect(AbandonedHandshakeHold.duration(after: .timeout(phase: phase), connectTimeout: connectTimeout) == nil)
    }

    @Test(arguments: [
        FailureCause.connectionRefused, .connectionReset, .handshakeRejected(status: 503), .closed(code: 1008, reason: ""),
        .other("lease lost while connecting"), .tlsHandshakeFailed("cut"),
    ])
    func anAnsweredOrRefusedOpenHoldsNothing(cause: FailureCause) {
        #expect(AbandonedHandshakeHold.duration(after: cause, connectTimeout: connectTimeout) == nil)
    }
}

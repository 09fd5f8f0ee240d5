import RecoveryCore
import Testing
import Transport
import WebSocket
@testable import Recovery

@Suite struct SessionFailureMappingTests {
    @Test(arguments: [401, 403, 404])
    func handshakeStatusesOfABadEndpointArePermanent(status: Int) {
        let cause = FailureCause(SessionError.handshake(.unexpectedStatus(status: status, reason: "no"), url: "ws://h/mcp/"))
        #expect(cause == .handshakeRejected(status: status))
        #expect(cause.kind == .permanent)
    }

    @Test(arguments: [500, 502, 503, 429, 408])
    func otherHandshakeStatusesAreTransient(status: Int) {
        let cause = FailureCause(SessionError.handshake(.unexpectedStatus(status: status, reason: "busy"), url: "ws://h/mcp/"))
        #expect(cause.kind == .transient)
    }

    @Test func policyViolationCloseIsPermanentOtherClosesAreNot() {
        let policy = FailureCause(SessionError.closed(WebSocketCloseInfo(code: .policyViolation, reason: "bad token", initiator: .peer)))
        #expect(policy == .closed(code: 1008, reason: "bad token"))
        #expect(policy.kind == .permanent)
        let away = FailureCause(SessionError.closed(WebSocketCloseInfo(code: .goingAway, reason: "", initiator: .peer)))
        #expect(away.kind == .transient)
    }

    @Test func refusedTimeoutsAndResetsAreTransient() {
        #expect(FailureCause(SessionError.transport(.refused(host: "h", port: 1), url: "ws://h:1/")) == .connectionRefused)
        #expect(FailureCause(SessionError.transport(.timeout(phase: .connect, host: "h", port: 1), url: "ws://h:1/")).kind == .transient)
        #expect(FailureCause(SessionError.transport(.reset(host: "h", port: 1, during: .tls), url: "wss://h:1/")) == .connectionReset)
        #expect(FailureCause(SessionError.handshakeTimeout(url: "ws://h/", after: .seconds(5))).kind == .transient)
        #expect(FailureCause(SessionError.transport(.tlsFailure(host: "h", reason: "unexpected eof"), url: "wss://h/")).kind == .transient)
    }

    @Test func aMalformedAddressIsPermanentAndAnUnsupportedSchemeSaysWhich() throws {
        let malformed = try #require(catchURLError("ws://"))
        #expect(FailureCause(SessionError.invalidURL(malformed)).kind == .permanent)
        let scheme = try #require(catchURLError("http://api.xiaozhi.me/mcp/?token=secret"))
        let cause = FailureCause(SessionError.invalidURL(scheme))
        #expect(cause == .unsupportedScheme("http"))
        #expect(cause.kind == .permanent)
        #expect(!cause.message.contains("secret"))
    }

    private func catchURLError(_ address: String) -> WebSocketURLError? {
        do {
            _ = try WebSocketURL(address)
            return nil
        } catch {
            return error
        }
    }
}

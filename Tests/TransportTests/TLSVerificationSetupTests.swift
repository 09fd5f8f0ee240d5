import COpenSSL
import Testing
@testable import Transport

/// The OpenSSL calls that set whom a certificate must name: their results are checked, and a failure is
/// an error naming the host rather than a connection that verifies the chain but not the name.
@Suite struct TLSVerificationSetupTests {
    @Test func aFailedSetupStepIsAnErrorNamingTheHost() {
        #expect(throws: Never.self) { try TLSChannel.requireSetup(1, host: "api.example", step: "set the expected host name") }
        let error = #expect(throws: TransportError.self) { try TLSChannel.requireSetup(0, host: "api.example", step: "set the expected host name") }
        guard case .tlsFailure(let host, let reason)? = error else {
            Issue.record("expected a TLS failure, got \(String(describing: error))")
            return
        }
        #expect(host == "api.example")
        #expect(reason.hasPrefix("cannot set the expected host name"))
    }

    @Test func aServerNameOpenSSLRefusesFailsTheConnectionSetup() throws {
        let context = try TLSContext.client(.default)
        let ssl = try #require(SSL_new(context.context))
        defer { SSL_free(ssl) }
        // SNI carries at most 255 bytes: OpenSSL refuses a longer name, and the channel must not go on without it.
        let tooLong = String(repeating: "a", count: 300) + ".example"
        let error = #expect(throws: TransportError.self) { try TLSChannel.prepareClient(ssl, serverName: tooLong, verifiesPeer: true) }
        guard case .tlsFailure(let host, let reason)? = error else {
            Issue.record("expected a TLS failure, got \(String(describing: error))")
            return
        }
        #expect(host == tooLong)
        #expect(reason.contains("server name"))
    }

    @Test func ordinaryNamesAndAddressesAreSetUp() throws {
        let context = try TLSContext.client(.default)
        for name in ["api.xiaozhi.me", "localhost", "127.0.0.1", "[::1]", "::1"] {
            let ssl = try #require(SSL_new(context.context))
            defer { SSL_free(ssl) }
            #expect(throws: Never.self) { try TLSChannel.prepareClient(ssl, serverName: name, verifiesPeer: true) }
        }
    }
}

import Foundation
import Testing
@testable import Transport

@Suite("TLS and TCP over the socket streams")
struct TransportTLSTests {
    @Test("TLS with the extra CA file connects and echoes")
    func tlsWithExtraCAFileEchoes() async throws {
        let certs = try TestCertificates.make()
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--cert", certs.localhostCert, "--key", certs.localhostKey])
        let context = try TLSContext.client(TLSConfiguration(extraCAFile: certs.caFile))
        let port = peer.port
        let echoed: [UInt8] = try await onDedicatedThread {
            let streams = try SocketStreams.connect(host: "localhost", port: port, tls: context)
            defer { streams.close() }
            let message = Array("hello over TLS".utf8)
            #expect(streams.output.write(message) == message.count)
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while received.count < message.count {
                let n = streams.input.read(&buffer, maxLength: buffer.count)
                if n <= 0 { break }
                received += buffer[0..<n]
            }
            return received
        }
        #expect(echoed == Array("hello over TLS".utf8))
    }

    @Test("a server certificate from an untrusted CA is refused with the verification reason")
    func untrustedCAIsRefused() async throws {
        let certs = try TestCertificates.make()
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--cert", certs.localhostCert, "--key", certs.localhostKey])
        let context = try TLSContext.client(.default)
        let port = peer.port
        let outcome: TransportError? = try await onDedicatedThread {
            failure { () throws(TransportError) in _ = try SocketStreams.connect(host: "localhost", port: port, tls: context) }
        }
        guard case .tlsFailure(let host, let reason)? = outcome else {
            Issue.record("expected a TLS failure, got \(String(describing: outcome))")
            return
        }
        #expect(host == "localhost")
        #expect(reason.contains("certificate"))
    }

    @Test("a certificate for another host name is refused")
    func wrongHostNameIsRefused() async throws {
        let certs = try TestCertificates.make()
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--cert", certs.otherCert, "--key", certs.otherKey])
        let context = try TLSContext.client(TLSConfiguration(extraCAFile: certs.caFile))
        let port = peer.port
        let outcome: TransportError? = try await onDedicatedThread {
            failure { () throws(TransportError) in _ = try SocketStreams.connect(host: "localhost", port: port, tls: context) }
        }
        #expect(outcome == .tlsFailure(host: "localhost", reason: "hostname mismatch"))
    }

    @Test("an IP literal is checked against the certificate's IP addresses")
    func ipLiteralIsVerified() async throws {
        let certs = try TestCertificates.make()
        let good = try await PeerProcess(script: "tcp_peer.py", arguments: ["--cert", certs.localhostCert, "--key", certs.localhostKey])
        let wrong = try await PeerProcess(script: "tcp_peer.py", arguments: ["--cert", certs.otherCert, "--key", certs.otherKey])
        let context = try TLSContext.client(TLSConfiguration(extraCAFile: certs.caFile))
        let goodPort = good.port, wrongPort = wrong.port
        let results: (Bool, TransportError?) = try await onDedicatedThread {
            let streams = try SocketStreams.connect(host: "127.0.0.1", port: goodPort, tls: context)
            streams.close()
            return (true, failure { () throws(TransportError) in _ = try SocketStreams.connect(host: "127.0.0.1", port: wrongPort, tls: context) })
        }
        #expect(results.0)
        #expect(results.1 == .tlsFailure(host: "127.0.0.1", reason: "IP address mismatch"))
    }

    @Test("verification can be turned off only by the option named for tests")
    func verificationOffForTests() async throws {
        let certs = try TestCertificates.make()
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--cert", certs.otherCert, "--key", certs.otherKey])
        let context = try TLSContext.client(TLSConfiguration(useSystemStore: false, verification: .disabledForTestsOnly))
        let port = peer.port
        let connected: Bool = try await onDedicatedThread {
            let streams = try SocketStreams.connect(host: "localhost", port: port, tls: context)
            streams.close()
            return true
        }
        #expect(connected)
    }

    @Test("a closed port gives a refused error naming host and port")
    func refusedPort() async throws {
        let port = try closedLoopbackPort()
        let outcome: TransportError? = try await onDedicatedThread {
            failure { () throws(TransportError) in _ = try SocketStreams.connect(host: "127.0.0.1", port: port) }
        }
        #expect(outcome == .refused(host: "127.0.0.1", port: port))
        #expect(outcome?.description == "connection refused by 127.0.0.1:\(port)")
    }

    @Test("a TLS handshake the server never answers times out in the TLS phase")
    func tlsHandshakeTimeout() async throws {
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--mode", "silent"])
        let context = try TLSContext.client(.default)
        let port = peer.port
        let outcome: TransportError? = try await onDedicatedThread {
            failure { () throws(TransportError) in
                _ = try SocketStreams.connect(host: "127.0.0.1", port: port, tls: context,
                                              timeouts: ConnectTimeouts(connect: .seconds(5), tls: .milliseconds(300)))
            }
        }
        #expect(outcome == .timeout(phase: .tls, host: "127.0.0.1", port: port))
    }

    @Test("host names resolve, IPv4 and IPv6 literals parse, garbage fails with one error")
    func resolution() throws {
        #expect(try SocketAddress.resolve(host: "127.0.0.1", port: 80).first?.description == "127.0.0.1:80")
        #expect(try SocketAddress.resolve(host: "[::1]", port: 443).first?.description == "[::1]:443")
        #expect(try SocketAddress.resolve(host: "localhost", port: 8080).contains { $0.host == "127.0.0.1" })
        #expect(throws: TransportError.self) { try SocketAddress.resolve(host: "no such host.invalid", port: 80) }
        #expect(throws: TransportError.invalidAddress("port 70000 out of range")) { try SocketAddress.resolve(host: "127.0.0.1", port: 70000) }
    }
}

import Foundation
import Testing
import WebSocket
@testable import Transport

/// Session options for tests: room for 1 MiB messages, and a silence deadline so nothing waits forever.
func testSessionOptions(tls: TLSConfiguration = .default) -> SessionOptions {
    SessionOptions(
        tls: tls,
        timeouts: ConnectTimeouts(connect: .seconds(5), tls: .seconds(5)),
        handshakeTimeout: .seconds(5),
        connection: WebSocketConnection.Configuration(
            maxFrameSize: 2 << 20, maxMessageSize: 2 << 20, pingInterval: .seconds(5), silenceTimeout: .seconds(15)))
}

/// Reads a session's events one at a time.
struct EventReader {
    var iterator: AsyncStream<SessionEvent>.Iterator
    init(_ session: WebSocketSession) { iterator = session.events.makeAsyncIterator() }
    mutating func next() async -> SessionEvent? { await iterator.next() }
    /// The next event, expected to be a message.
    mutating func message() async -> WebSocketMessage? {
        if case .message(let message)? = await next() { return message }
        return nil
    }
    /// Skips messages up to the closing event.
    mutating func closing() async -> (WebSocketCloseInfo, TransportError?)? {
        while let event = await next() {
            if case .closed(let info, let transport) = event { return (info, transport) }
        }
        return nil
    }
}

@Suite("WebSocket client sessions against the websockets peer")
struct WebSocketConformanceTests {
    static let sizes = [0, 125, 126, 65535, 65536, 1 << 20]

    @Test("text messages of every length class echo unchanged", arguments: sizes)
    func echoText(size: Int) async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/echo", options: testSessionOptions())
        var reader = EventReader(session)
        let text = String((0..<size).map { i in Character(UnicodeScalar(UInt8(97 + i % 26))) })
        session.send(text: text)
        #expect(await reader.message() == .text(text))
        session.close()
        let closing = await reader.closing()
        #expect(closing?.0.code == .normalClosure)
        #expect(closing?.0.error == nil)
    }

    @Test("binary messages of every length class echo unchanged", arguments: sizes)
    func echoBinary(size: Int) async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/echo", options: testSessionOptions())
        var reader = EventReader(session)
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        session.send(binary: bytes)
        #expect(await reader.message() == .binary(bytes))
        session.close()
        #expect(await reader.closing()?.0.error == nil)
    }

    @Test("fragmented text and binary messages from the server arrive whole")
    func fragmentedMessages() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/fragments", options: testSessionOptions())
        var reader = EventReader(session)
        #expect(await reader.message() == .text("fragmented text ✓"))
        #expect(await reader.message() == .binary([0, 1, 2, 3, 4]))
        session.close()
        #expect(await reader.closing() != nil)
    }

    @Test("pings from the server are answered with pongs")
    func serverPingsAnswered() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/ping", options: testSessionOptions())
        var reader = EventReader(session)
        #expect(await reader.message() == .text("pong received"))
        session.close()
        #expect(await reader.closing() != nil)
    }

    @Test("our ping gets the server's pong and a round-trip time")
    func pingRoundTrip() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/echo", options: testSessionOptions())
        let rtt = try await session.ping()
        #expect(rtt > .zero)
        session.close()
        _ = await session.waitUntilClosed()
    }

    @Test("a close by the server reports its code and reason", arguments: [1000, 1001, 1003, 1008, 1011, 1013, 3000, 4999])
    func serverCloseCode(code: Int) async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/close/\(code)", options: testSessionOptions())
        let (info, transport) = await session.waitUntilClosed()
        #expect(info.code == WebSocketCloseCode(UInt16(code)))
        #expect(info.reason == "bye")
        #expect(info.initiator == .peer)
        #expect(info.error == nil)
        #expect(transport == nil)
    }

    @Test("our close completes the close handshake cleanly")
    func clientClose() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/echo", options: testSessionOptions())
        session.close(code: WebSocketCloseCode(4001), reason: "leaving")
        let (info, _) = await session.waitUntilClosed()
        #expect(info == WebSocketCloseInfo(code: WebSocketCloseCode(4001), reason: "leaving", initiator: .local))
        #expect(host.sessionCount == 0)
    }

    @Test("wss with the extra CA file echoes")
    func tlsEcho() async throws {
        let certs = try TestCertificates.make()
        let peer = try await PeerProcess(script: "ws_peer.py", arguments: ["--cert", certs.localhostCert, "--key", certs.localhostKey])
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("wss://localhost:\(peer.port)/echo?token=secret",
                                             options: testSessionOptions(tls: TLSConfiguration(extraCAFile: certs.caFile)))
        var reader = EventReader(session)
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        session.send(binary: bytes)
        #expect(await reader.message() == .binary(bytes))
        session.send(text: "over TLS")
        #expect(await reader.message() == .text("over TLS"))
        session.close()
        #expect(await reader.closing()?.0.error == nil)
    }

    @Test("wss to an untrusted certificate fails with the TLS reason and is permanent, token redacted")
    func tlsUntrusted() async throws {
        let certs = try TestCertificates.make()
        let peer = try await PeerProcess(script: "ws_peer.py", arguments: ["--cert", certs.localhostCert, "--key", certs.localhostKey])
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        do {
            _ = try await host.connect("wss://localhost:\(peer.port)/echo?token=secret", options: testSessionOptions())
            Issue.record("connected to an untrusted server")
        } catch {
            guard case .transport(.tlsFailure(_, let reason), let url) = error else {
                Issue.record("expected a TLS failure, got \(error)")
                return
            }
            #expect(reason.contains("certificate"))
            #expect(!url.contains("secret"))
            #expect(!error.description.contains("secret"))
            #expect(error.isPermanent)
        }
    }

    @Test("an HTTP status at the handshake is reported with the status", arguments: [401, 403, 404, 500, 503])
    func handshakeStatus(status: Int) async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        do {
            _ = try await host.connect("ws://127.0.0.1:\(peer.port)/status/\(status)", options: testSessionOptions())
            Issue.record("the upgrade succeeded")
        } catch {
            #expect(error.httpStatus == status)
            #expect(error.isPermanent == (status < 500))
        }
    }

    @Test("a refused port is a transport error, not permanent")
    func refused() async throws {
        let port = try closedLoopbackPort()
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        await #expect(throws: SessionError.transport(.refused(host: "127.0.0.1", port: port), url: "ws://127.0.0.1:\(port)/")) {
            _ = try await host.connect("ws://127.0.0.1:\(port)/", options: testSessionOptions())
        }
        #expect(host.sessionCount == 0)
    }

    @Test("a server that accepts and never answers the upgrade times out in the handshake phase")
    func handshakeTimeout() async throws {
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--mode", "silent"])
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        var options = testSessionOptions()
        options.handshakeTimeout = .milliseconds(300)
        await #expect(throws: SessionError.handshakeTimeout(url: "ws://127.0.0.1:\(peer.port)/x", after: .milliseconds(300))) {
            _ = try await host.connect("ws://127.0.0.1:\(peer.port)/x", options: options)
        }
    }

    @Test("an invalid address fails with one clear error")
    func invalidAddress() async throws {
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        do {
            _ = try await host.connect("http://example.test/?token=abc")
            Issue.record("accepted an http address")
        } catch {
            guard case .invalidURL = error else {
                Issue.record("expected invalidURL, got \(error)")
                return
            }
            #expect(error.isPermanent)
            #expect(!error.description.contains("abc"))
        }
    }

    @Test("many sessions share the host's two threads and all echo")
    func manySessions() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 2)
        defer { host.shutdown() }
        let port = peer.port
        let sessions = try await withThrowingTaskGroup(of: WebSocketSession.self) { tasks in
            for _ in 0..<200 {
                tasks.addTask { try await host.connect("ws://127.0.0.1:\(port)/echo", options: testSessionOptions()) }
            }
            return try await tasks.reduce(into: [WebSocketSession]()) { $0.append($1) }
        }
        #expect(host.sessionCount == 200)
        let echoed = await withTaskGroup(of: Bool.self) { tasks in
            for (n, session) in sessions.enumerated() {
                tasks.addTask {
                    var reader = EventReader(session)
                    session.send(text: "session \(n)")
                    return await reader.message() == .text("session \(n)")
                }
            }
            return await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(echoed == 200)
        for session in sessions { session.close() }
        for session in sessions { _ = await session.waitUntilClosed() }
        #expect(host.sessionCount == 0)
    }
}

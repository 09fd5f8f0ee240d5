import Foundation
import Testing
import WebSocket
@testable import Transport

/// Echoes every message of every session it accepts.
private func echoServer(on host: SessionHost, options: ServerOptions = ServerOptions()) throws -> WebSocketServer {
    try host.listen(options: options) { session, _ in
        Task {
            for await event in session.events {
                if case .message(let message) = event { session.send(message) }
            }
        }
    }
}

/// A `wss://` echo server for localhost on a session host of its own, and client options that trust it.
private struct TLSEcho {
    let certificates: TestCertificates
    let host: SessionHost
    let server: WebSocketServer
    let options: SessionOptions

    init() throws {
        certificates = try TestCertificates.make()
        let host = try SessionHost(threads: 1)
        do {
            let tls = try TLSContext.server(certificateChainFile: certificates.localhostCert, privateKeyFile: certificates.localhostKey)
            server = try echoServer(on: host, options: ServerOptions(tls: tls))
        } catch {
            host.shutdown()
            throw error
        }
        self.host = host
        options = testSessionOptions(tls: TLSConfiguration(extraCAFile: certificates.caFile))
    }

    func close() {
        server.close()
        host.shutdown()
    }
}

@Suite("The WebSocket server side")
struct WebSocketServerTests {
    @Test("our client and our server echo text and binary and close cleanly")
    func ourClientOurServer() async throws {
        let host = try SessionHost(threads: 2)
        defer { host.shutdown() }
        let server = try echoServer(on: host)
        defer { server.close() }
        let session = try await host.connect("ws://127.0.0.1:\(server.port)/mcp/?token=t", options: testSessionOptions())
        var reader = EventReader(session)
        session.send(text: "ping ✓")
        #expect(await reader.message() == .text("ping ✓"))
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 3) }
        session.send(binary: bytes)
        #expect(await reader.message() == .binary(bytes))
        session.close(code: WebSocketCloseCode(4002), reason: "done")
        let closing = await reader.closing()
        #expect(closing?.0 == WebSocketCloseInfo(code: WebSocketCloseCode(4002), reason: "done", initiator: .local))
    }

    @Test("the websockets client talks to our server, which sees its close code")
    func pythonClientOurServer() async throws {
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let closes = Locked<[WebSocketCloseInfo]>([])
        let server = try host.listen { session, _ in
            Task {
                for await event in session.events {
                    switch event {
                    case .message(let message): session.send(message)
                    case .closed(let info, _): closes.update { $0.append(info) }
                    }
                }
            }
        }
        defer { server.close() }
        let status = try await runPython(["ws_client.py", "ws://127.0.0.1:\(server.port)/echo"])
        #expect(status == 0)
        while closes.value.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(closes.value.first?.code == WebSocketCloseCode(4000))
        #expect(closes.value.first?.reason == "done")
        #expect(closes.value.first?.initiator == .peer)
    }

    @Test("our wss server serves the websockets client with the test CA")
    func pythonClientOurTLSServer() async throws {
        let certs = try TestCertificates.make()
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let tls = try TLSContext.server(certificateChainFile: certs.localhostCert, privateKeyFile: certs.localhostKey)
        let server = try echoServer(on: host, options: ServerOptions(tls: tls))
        defer { server.close() }
        let status = try await runPython(["ws_client.py", "wss://localhost:\(server.port)/echo", "--ca", certs.caFile])
        #expect(status == 0)
    }

    @Test("our client over wss to our server")
    func ourClientOurTLSServer() async throws {
        let certs = try TestCertificates.make()
        let host = try SessionHost(threads: 2)
        defer { host.shutdown() }
        let tls = try TLSContext.server(certificateChainFile: certs.localhostCert, privateKeyFile: certs.localhostKey)
        let server = try echoServer(on: host, options: ServerOptions(tls: tls))
        defer { server.close() }
        let session = try await host.connect("wss://localhost:\(server.port)/",
                                             options: testSessionOptions(tls: TLSConfiguration(extraCAFile: certs.caFile)))
        var reader = EventReader(session)
        let text = String(repeating: "tls ", count: 50_000)
        session.send(text: text)
        #expect(await reader.message() == .text(text))
        session.close()
        #expect(await reader.closing()?.0.error == nil)
    }

    @Test("a second wss session to the same server resumes the first one's TLS session")
    func tlsSessionsAreResumed() async throws {
        let echo = try TLSEcho()
        defer { echo.close() }
        let (certs, host, server, options) = (echo.certificates, echo.host, echo.server, echo.options)
        var resumed: [Bool] = []
        for _ in 0..<3 {
            let session = try await host.connect("wss://localhost:\(server.port)/", options: options)
            var reader = EventReader(session)
            session.send(text: "hello")
            // The server's session ticket arrives after the handshake; the echo has read past it.
            #expect(await reader.message() == .text("hello"))
            resumed.append(await session.tlsSessionResumed())
            session.close()
            _ = await reader.closing()
        }
        #expect(resumed == [false, true, true])
        // Another CA file is another client context: its sessions are its own, never offered across.
        let other = try await host.connect("wss://localhost:\(server.port)/",
                                           options: testSessionOptions(tls: TLSConfiguration(extraCAFile: certs.caFile, useSystemStore: false)))
        #expect(await other.tlsSessionResumed() == false)
        other.close()
    }

    @Test("a burst of wss re-opens larger than one handshake's tickets all resume")
    func burstOfReopensResumes() async throws {
        let echo = try TLSEcho()
        defer { echo.close() }
        let (host, server, options) = (echo.host, echo.server, echo.options)
        let burst = 150
        /// Opens `burst` sessions at once, reads an echo on each (past the tickets), closes them all.
        func openBurst() async throws -> Int {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<burst {
                    group.addTask {
                        let session = try await host.connect("wss://localhost:\(server.port)/", options: options)
                        var reader = EventReader(session)
                        session.send(text: "hello")
                        _ = await reader.message()
                        let resumed = await session.tlsSessionResumed()
                        session.close()
                        _ = await reader.closing()
                        return resumed
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
        }
        _ = try await openBurst()
        // Each handshake leaves tickets; all of the first burst's are kept, so every re-open has its own.
        #expect(try await openBurst() == burst)
    }

    @Test("the accept hook refuses an upgrade with the chosen HTTP status")
    func acceptHookRefuses() async throws {
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let server = try host.listen(options: ServerOptions(accept: { head in
            head.queryValue("token") == "good" ? nil : 401
        })) { session, _ in session.close() }
        defer { server.close() }
        do {
            _ = try await host.connect("ws://127.0.0.1:\(server.port)/mcp/?token=bad", options: testSessionOptions())
            Issue.record("a bad token was accepted")
        } catch {
            #expect(error.httpStatus == 401)
            #expect(error.isPermanent)
        }
        let session = try await host.connect("ws://127.0.0.1:\(server.port)/mcp/?token=good", options: testSessionOptions())
        let (info, _) = await session.waitUntilClosed()
        #expect(info.initiator == .peer)
    }

    @Test("a client that never sends its upgrade request is dropped after the handshake timeout")
    func silentClientDropped() async throws {
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let server = try host.listen(options: ServerOptions(handshakeTimeout: .milliseconds(200))) { _, _ in }
        defer { server.close() }
        let port = server.port
        let closedByServer: Bool = try await onDedicatedThread {
            let streams = try SocketStreams.connect(host: "127.0.0.1", port: port, ioTimeout: .seconds(5))
            defer { streams.close() }
            var byte: UInt8 = 0
            return streams.input.read(&byte, maxLength: 1) == 0
        }
        #expect(closedByServer)
    }
}

/// Runs a script from `Peers/` to completion and returns its exit status.
func runPython(_ arguments: [String]) async throws -> Int32 {
    let peers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers")
    return try await onDedicatedThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", peers.appendingPathComponent(arguments[0]).path] + arguments.dropFirst()
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return -1
        }
        return process.terminationStatus
    }
}

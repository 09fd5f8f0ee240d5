import JSON
import Foundation
import Logging
import Testing
import Transport
import WebSocket
@testable import XiaozhiSim

#if canImport(Glibc)
import Glibc
#endif

/// The simulator over real sockets: Transport client sessions play the pool's side (the MCP server).
@Suite("Simulator over the network")
struct SimulatorServerTests {
    private static func makeSimulator(tokens: Set<String>? = nil, ping: Duration? = nil) throws -> SimulatorServer {
        try SimulatorServer(
            host: "127.0.0.1", port: 0,
            configuration: SimulatorCore.Configuration(allowedTokens: tokens, mcpPingInterval: ping),
            connection: WebSocketConnection.Configuration(pingInterval: nil, silenceTimeout: nil),
            logger: Logger(label: "xiaozhi-sim-test"))
    }

    /// Answers MCP as the pool would, until the session ends; returns how it ended.
    private static func serveMCP(_ session: WebSocketSession, tools: [String] = ["lamp_on", "lamp_off"]) async -> WebSocketCloseInfo {
        for await event in session.events {
            switch event {
            case .message(.text(let text)):
                guard let message = (try? JSONValue(parsing: text)), let id = message["id"], let method = message["method"]?.stringValue else { continue }
                let result: JSONValue
                switch method {
                case "initialize":
                    result = ["protocolVersion": "2024-11-05", "capabilities": ["tools": [:]], "serverInfo": ["name": "endpoint"]]
                case "tools/list":
                    result = ["tools": .array(tools.map { ["name": .string($0), "inputSchema": ["type": "object"]] })]
                case "tools/call":
                    result = ["content": [["type": "text", "text": .string(message["params"]?["name"]?.stringValue ?? "")]]]
                default:
                    result = [:]
                }
                session.send(text: JSONValue.object(["jsonrpc": "2.0", "id": id, "result": result]).jsonText)
            case .message(.binary):
                continue
            case .closed(let info, _):
                return info
            }
        }
        return WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .transport)
    }

    /// `serveMCP`, but a session the simulator has not closed within `limit` is closed from this side, so a
    /// missing close fails the test's expectations instead of hanging it.
    private static func serveMCP(_ session: WebSocketSession, closingAfter limit: Duration) async -> WebSocketCloseInfo {
        let watchdog = Task {
            try await Task.sleep(for: limit)
            session.close(code: .normalClosure, reason: "test watchdog")
        }
        defer { watchdog.cancel() }
        return await serveMCP(session)
    }

    private static func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("condition not met within 10 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("a session is initialized, lists its tools and answers a tool call")
    func fullSession() async throws {
        let simulator = try Self.makeSimulator(tokens: ["tok-a"])
        defer { simulator.shutdown() }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=tok-a")
        let served = Task { await Self.serveMCP(session) }
        try await Self.waitFor { simulator.status().sessions.first?.mcpPhase == .ready }
        #expect(simulator.status().sessions.first?.tools == ["lamp_on", "lamp_off"])
        let outcome = await simulator.callTool(token: "tok-a", tokenId: nil, name: "lamp_on", arguments: [:], timeout: .seconds(5))
        guard case .answered(let answer) = outcome else {
            Issue.record("expected an answer, got \(outcome)")
            return
        }
        #expect(answer.body["content"]?.arrayValue?.first?["text"] == "lamp_on")
        session.close()
        _ = await served.value
        try await Self.waitFor { simulator.status().connectedCount == 0 }
    }

    @Test("an unknown token is closed with 1008")
    func unknownToken() async throws {
        let simulator = try Self.makeSimulator(tokens: ["tok-a"])
        defer { simulator.shutdown() }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=intruder")
        let info = await Self.serveMCP(session)
        #expect(info.code == .policyViolation)
        #expect(info.initiator == .peer)
        #expect(simulator.status().rejectedTokens == 1)
    }

    @Test("a second connection with the same token evicts the first with 1000")
    func eviction() async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let first = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=same")
        let firstServed = Task { await Self.serveMCP(first) }
        try await Self.waitFor { simulator.status().connectedCount == 1 }
        let second = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=same")
        let secondServed = Task { await Self.serveMCP(second) }
        let info = await firstServed.value
        #expect(info.code == .normalClosure)
        #expect(info.initiator == .peer)
        try await Self.waitFor { simulator.status().evictions == 1 && simulator.status().connectedCount == 1 }
        second.close()
        _ = await secondServed.value
    }

    @Test("the HTTP status fault makes the handshake fail with that status", arguments: [401, 503])
    func httpStatusFault(status: Int) async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        try simulator.setFaults(FaultSwitches(httpStatus: status))
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        do {
            let session = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=x")
            session.close()
            Issue.record("expected the handshake to fail")
        } catch {
            #expect(error.httpStatus == status)
            #expect(error.isPermanent == (status == 401))
        }
        #expect(simulator.status().handshakeFailures == 1)
    }

    @Test("refusing new connections closes the listener; clearing the fault reopens it on the same port")
    func refuseNew() async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let port = simulator.port
        try simulator.setFaults(FaultSwitches(refuseNew: true))
        do {
            let session = try await host.connect("ws://127.0.0.1:\(port)/mcp/?token=x")
            session.close()
            Issue.record("expected the connection to be refused")
        } catch {
            guard case .transport(.refused, _) = error else {
                Issue.record("expected a refused connection, got \(error)")
                return
            }
        }
        try simulator.setFaults(FaultSwitches(refuseNew: false))
        #expect(simulator.port == port)
        let session = try await host.connect("ws://127.0.0.1:\(port)/mcp/?token=x")
        session.close()
        _ = await session.waitUntilClosed()
    }

    @Test("drop all closes every session with 1001")
    func dropAll() async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let a = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=a")
        let b = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=b")
        let servedA = Task { await Self.serveMCP(a) }
        let servedB = Task { await Self.serveMCP(b) }
        try await Self.waitFor { simulator.status().connectedCount == 2 }
        #expect(simulator.dropAll() == 2)
        #expect(await servedA.value.code == .goingAway)
        #expect(await servedB.value.code == .goingAway)
    }

    @Test("each session's MCP client pings on its interval and the answers are counted")
    func mcpPings() async throws {
        let simulator = try Self.makeSimulator(ping: .milliseconds(100))
        defer { simulator.shutdown() }
        let run = Task { await simulator.run() }
        defer { run.cancel() }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=p")
        let served = Task { await Self.serveMCP(session) }
        try await Self.waitFor { (simulator.status().sessions.first?.pingsAnswered ?? 0) >= 2 }
        #expect(simulator.status().sessions.first?.protocolErrors == [])
        session.close()
        _ = await served.value
    }

    @Test("a handshake delay longer than the client's handshake timeout fails the connect")
    func handshakeDelay() async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        try simulator.setFaults(FaultSwitches(handshakeDelayMilliseconds: 1500))
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        do {
            let session = try await host.connect(
                "ws://127.0.0.1:\(simulator.port)/mcp/?token=slow", options: SessionOptions(handshakeTimeout: .milliseconds(200)))
            session.close()
            Issue.record("expected a handshake timeout")
        } catch {
            guard case .handshakeTimeout = error else {
                Issue.record("expected a handshake timeout, got \(error)")
                return
            }
        }
        try simulator.setFaults(FaultSwitches())
        let session = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=slow")
        session.close()
        _ = await session.waitUntilClosed()
    }

    @Test("the status endpoint serves the status and changes the fault switches over HTTP")
    func statusEndpoint() async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        let status = try StatusServer(host: "127.0.0.1", port: 0, simulator: simulator, logger: Logger(label: "status-test"))
        defer { status.close() }
        let (code, body) = try await httpRequest(port: status.port, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(code == 200)
        #expect((try? JSONValue(parsing: body))?["connectedCount"] == 0)
        let (countsCode, counts) = try await httpRequest(port: status.port, "GET /counts HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(countsCode == 200)
        #expect((try? JSONValue(parsing: counts))?["connectedCount"] == 0)
        #expect((try? JSONValue(parsing: counts))?["sessions"] == nil)
        let change = #"{"httpStatus":503,"handshakeDelayMilliseconds":5}"#
        let (changed, _) = try await httpRequest(
            port: status.port, "POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: \(change.utf8.count)\r\n\r\n\(change)")
        #expect(changed == 200)
        #expect(simulator.faults == FaultSwitches(handshakeDelayMilliseconds: 5, httpStatus: 503))
        let bad = #"{"httpStatus":"soon"}"#
        let (refused, _) = try await httpRequest(
            port: status.port, "POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: \(bad.utf8.count)\r\n\r\n\(bad)")
        #expect(refused == 400)
        let call = #"{"token":"nobody","name":"x"}"#
        let (missing, _) = try await httpRequest(
            port: status.port, "POST /call HTTP/1.1\r\nHost: x\r\nContent-Length: \(call.utf8.count)\r\n\r\n\(call)")
        #expect(missing == 404)
    }

    @Test("per-token faults over HTTP: close after open repeats with the fault's code, drop by tokenId spares other tokens")
    func tokenFaultsOverHTTP() async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        let status = try StatusServer(host: "127.0.0.1", port: 0, simulator: simulator, logger: Logger(label: "status-test"))
        defer { status.close() }
        let revoked = fingerprintOf("revoked")
        let change = #"{"tokens": {"\#(revoked)": {"closeAfterOpen": {"code": 1008, "reason": "token revoked"}}}}"#
        let (changed, answer) = try await httpRequest(
            port: status.port, "POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: \(change.utf8.count)\r\n\r\n\(change)")
        #expect(changed == 200)
        #expect((try? JSONValue(parsing: answer))?["tokens"]?[revoked]?["closeAfterOpen"]?["code"] == 1008)
        let (_, shown) = try await httpRequest(port: status.port, "GET /faults HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect((try? JSONValue(parsing: shown))?["tokens"]?[revoked]?["closeAfterOpen"]?["reason"] == "token revoked")

        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        for _ in 1...2 {
            let session = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=revoked")
            let info = await Self.serveMCP(session, closingAfter: .seconds(10))
            #expect(info.code == .policyViolation)
            #expect(info.reason == "token revoked")
            #expect(info.initiator == .peer)
        }
        let (_, counts) = try await httpRequest(port: status.port, "GET /counts HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect((try? JSONValue(parsing: counts))?["closesAfterOpen"] == 2)
        #expect(simulator.status().closesAfterOpenByTokenId == [revoked: 2])
        #expect(simulator.status().connectsByTokenId[revoked] == 2)

        let keep = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=keep")
        let gone = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=gone")
        let servedKeep = Task { await Self.serveMCP(keep) }
        let servedGone = Task { await Self.serveMCP(gone, closingAfter: .seconds(10)) }
        try await Self.waitFor { simulator.status().sessions.filter { $0.mcpPhase == .ready }.count == 2 }
        let drop = #"{"tokenIds": ["\#(fingerprintOf("gone"))"]}"#
        let (dropped, dropAnswer) = try await httpRequest(
            port: status.port, "POST /faults/drop HTTP/1.1\r\nHost: x\r\nContent-Length: \(drop.utf8.count)\r\n\r\n\(drop)")
        #expect(dropped == 200)
        #expect((try? JSONValue(parsing: dropAnswer))?["dropped"] == 1)
        #expect(await servedGone.value.code == .goingAway)
        try await Self.waitFor { simulator.status().connectedTokenIds == [fingerprintOf("keep")] }
        #expect(simulator.status().closesAfterOpen == 2)

        let bad = #"{"tokens": {"\#(revoked)": {"closeAfterOpen": {"code": 1006}}}}"#
        let (refused, why) = try await httpRequest(
            port: status.port, "POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: \(bad.utf8.count)\r\n\r\n\(bad)")
        #expect(refused == 400)
        #expect((try? JSONValue(parsing: why))?["error"]?.stringValue?.contains("tokens.\(revoked).closeAfterOpen.code") == true)
        let badDrop = #"{"tokenIds": ["gone"]}"#
        let (refusedDrop, _) = try await httpRequest(
            port: status.port, "POST /faults/drop HTTP/1.1\r\nHost: x\r\nContent-Length: \(badDrop.utf8.count)\r\n\r\n\(badDrop)")
        #expect(refusedDrop == 400)
        keep.close()
        _ = await servedKeep.value
    }

    @Test("a token's handshake delay fails that token's connect past the client's timeout, not another token's")
    func tokenHandshakeDelay() async throws {
        let simulator = try Self.makeSimulator()
        defer { simulator.shutdown() }
        _ = try simulator.changeFaults(["tokens": .object([fingerprintOf("slow"): ["handshakeDelayMilliseconds": 1500]])])
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let quick = SessionOptions(handshakeTimeout: .milliseconds(300))
        let fast = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=fast", options: quick)
        fast.close()
        _ = await fast.waitUntilClosed()
        do {
            let session = try await host.connect("ws://127.0.0.1:\(simulator.port)/mcp/?token=slow", options: quick)
            session.close()
            Issue.record("expected a handshake timeout")
        } catch {
            guard case .handshakeTimeout = error else {
                Issue.record("expected a handshake timeout, got \(error)")
                return
            }
        }
    }

    /// One HTTP exchange over a plain socket; returns the status and body.
    /// One exchange, on a thread of its own: a blocking read on a task's thread would starve the
    /// cooperative pool the server's handler runs on.
    private func httpRequest(port: Int, _ request: String) async throws -> (Int, String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingHTTPRequest(port: port, request) })
            }
        }
    }

    private func blockingHTTPRequest(port: Int, _ request: String) throws -> (Int, String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect to the status port failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            response += buffer[..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let statusText = text.split(separator: " ").dropFirst().first, let status = Int(statusText),
            let split = text.range(of: "\r\n\r\n")
        else { throw TestFailure("malformed HTTP response") }
        return (status, String(text[split.upperBound...]))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

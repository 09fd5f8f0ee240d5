import Foundation
import Testing
@testable import MCP

/// The two hostile peers: one answering Streamable HTTP POSTs with event streams (and serving the
/// older HTTP+SSE transport), one answering them with JSON bodies.
actor HostilePeers {
    static let shared = HostilePeers()
    /// One start per kind, shared by concurrent callers: a second peer started meanwhile would replace
    /// the first, whose process exits when released (its stdin closes) under the test using it.
    private var peers: [Bool: Task<HostilePeer, any Error>] = [:]

    func peer(jsonResponse: Bool) async throws -> HostilePeer {
        if let started = peers[jsonResponse] { return try await started.value }
        let starting = Task { try await HostilePeer.start(jsonResponse: jsonResponse) }
        peers[jsonResponse] = starting
        return try await starting.value
    }
}

/// Upstream services that answer with endless lines, endless events, 100 MiB or silence, on real
/// sockets, through a session server and the bridge with its default byte limits: each call ends in
/// a JSON-RPC error, the process's memory stays bounded, and the next call on the session works.
@Suite struct HostileUpstreamTests {
    /// How a service answers.
    enum Path: String, Sendable, CustomStringConvertible, CaseIterable {
        case streamableEventStream = "streamable-http answering with an event stream"
        case streamableJSON = "streamable-http answering with JSON"
        case legacyEventStream = "sse"
        var description: String { rawValue }
    }

    /// What the hostile tool sends.
    enum Behaviour: String, Sendable, CustomStringConvertible, CaseIterable {
        case endlessLine = "endless_line"
        case endlessEvents = "endless_events"
        case huge
        case idle
        var description: String { rawValue }

        var expectedKind: BridgeFailure.Kind { self == .idle ? .idle : .responseTooLarge }
    }

    /// A JSON body has no events: the endless-events case is an event-stream one.
    static let cases: [(Path, Behaviour)] = Path.allCases.flatMap { path in
        Behaviour.allCases.filter { !(path == .streamableJSON && $0 == .endlessEvents) }.map { (path, $0) }
    }

    /// Far above what the bounded bridge holds (a few MiB), far below what an unbounded one would.
    static let memoryBound = 64 << 20
    static let idleTimeout = Duration.seconds(2)

    func session(_ path: Path) async throws -> (MCPSessionServer, Outbox, UpstreamBridge, HostilePeer) {
        let peer = try await HostilePeers.shared.peer(jsonResponse: path == .streamableJSON)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(60), idleTimeout: Self.idleTimeout))
        let tools = ["echo", "keepalive"] + Behaviour.allCases.map(\.rawValue)
        let names = "[" + tools.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let (catalog, issues) = Fixtures.catalog(
            bindings: [Fixtures.binding("b", config: "hostile", selected: names)],
            configs: [Fixtures.config("hostile", endpoint: path == .legacyEventStream ? peer.legacyURL : peer.streamableURL,
                                      protocolName: path == .legacyEventStream ? "sse" : "streamable-http")],
            tools: tools.map { Fixtures.tool($0, config: "hostile") })
        #expect(issues.isEmpty)
        let outbox = Outbox()
        let server = MCPSessionServer(options: MCPSessionOptions(endpointName: "hostile"), catalog: catalog, bridge: bridge,
                                      send: { outbox.send($0) })
        return (server, outbox, bridge, peer)
    }

    /// Sends a tools/call on the session and waits for its answer.
    func call(_ server: MCPSessionServer, _ outbox: Outbox, id: Int, tool: String, arguments: String = "{}") async -> String {
        let sent = outbox.messages.count
        server.receive(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#)
        return await outbox.waitFor(count: sent + 1)[sent]
    }

    func errorKind(_ text: String) -> String? {
        guard case .error(let error)? = response(text)?.outcome else { return nil }
        return error.data?["kind"]?.stringValue
    }

    func echoed(_ text: String) -> String? {
        resultValue(text)?["content"]?.arrayValue?.first?["text"]?.stringValue
    }

    @Test(arguments: cases)
    func aHostileAnswerFailsOnlyItsCallWithinBoundedMemory(path: Path, behaviour: Behaviour) async throws {
        let (server, outbox, bridge, peer) = try await session(path)
        defer {
            server.close()
            Task { await bridge.shutdown() }
        }
        #expect(echoed(await call(server, outbox, id: 1, tool: "echo", arguments: #"{"text":"before"}"#)) == "before")
        let writtenBefore = try await peer.written()[behaviour.rawValue] ?? 0

        let before = ProcessMemory.residentBytes()
        let sampler = PeakResidentSampler.start()
        let started = ContinuousClock.now
        let answer = await call(server, outbox, id: 2, tool: behaviour.rawValue)
        let took = ContinuousClock.now - started
        // The window lasts until the peer has stopped writing: what the process reads after the call
        // was answered (a transfer that goes on after its cancel) counts as well.
        let written = try await peer.writtenOnceSettled(behaviour.rawValue) - writtenBefore
        let peak = sampler.stop()
        let after = ProcessMemory.residentBytes()

        print("hostile upstream [\(path)] \(behaviour): RSS before \(ProcessMemory.mebibytes(before)), peak \(ProcessMemory.mebibytes(peak)) (+\(ProcessMemory.mebibytes(peak - before))), after \(ProcessMemory.mebibytes(after)); peer wrote \(ProcessMemory.mebibytes(written)); answered in \(took)")
        #expect(errorCode(answer) == JSONRPCError.internalErrorCode, "answer: \(answer.prefix(300))")
        #expect(errorKind(answer) == behaviour.expectedKind.rawValue, "answer: \(answer.prefix(300))")
        #expect(peak - before < Self.memoryBound)

        #expect(echoed(await call(server, outbox, id: 3, tool: "echo", arguments: #"{"text":"after"}"#)) == "after")
        #expect(server.inFlightCallCount == 0)
    }

    @Test(arguments: Path.allCases)
    func aQuietButLiveAnswerOutlivesTheIdleDeadline(path: Path) async throws {
        let (server, outbox, bridge, _) = try await session(path)
        defer {
            server.close()
            Task { await bridge.shutdown() }
        }
        // Comments (or JSON whitespace) every 0.3 s for 5 s: more than twice the 2 s idle deadline.
        let answer = await call(server, outbox, id: 1, tool: "keepalive", arguments: #"{"seconds":5}"#)
        #expect(echoed(answer) == "kept alive 5.0", "answer: \(answer.prefix(300))")
    }

    @Test func anSSEStreamThatIdlesBetweenCallsIsReopenedByTheNextCall() async throws {
        let (server, outbox, bridge, _) = try await session(.legacyEventStream)
        defer {
            server.close()
            Task { await bridge.shutdown() }
        }
        #expect(echoed(await call(server, outbox, id: 1, tool: "echo", arguments: #"{"text":"one"}"#)) == "one")
        // The peer sends nothing between answers: the stream ends at the idle deadline.
        try await Task.sleep(for: Self.idleTimeout * 2)
        #expect(echoed(await call(server, outbox, id: 2, tool: "echo", arguments: #"{"text":"two"}"#)) == "two")
    }
}

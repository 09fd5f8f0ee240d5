import JSON
import Synchronization
import Testing
@testable import MCP

/// Records which services sessions hold and let go.
final class HoldRecordingBridge: ToolCallBridge {
    private let held = Mutex<[UpstreamService: Int]>([:])
    private let releases = Mutex(0)

    func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome { .result(rawJSON: "{}") }

    func holdServices(_ services: Set<UpstreamService>) {
        held.withLock { held in for service in services { held[service, default: 0] += 1 } }
    }

    func releaseServices(_ services: Set<UpstreamService>) {
        releases.withLock { $0 += 1 }
        held.withLock { held in
            for service in services {
                held[service, default: 0] -= 1
                if held[service] == 0 { held[service] = nil }
            }
        }
    }

    /// Services held now, with how many holds each.
    var holds: [UpstreamService: Int] { held.withLock { $0 } }
    var releaseCount: Int { releases.withLock { $0 } }
}

/// A session's own bounds: concurrent tool calls, and the size of what it sends to Xiaozhi. Past
/// either the request gets a JSON-RPC error and the session goes on.
@Suite struct MCPSessionLimitTests {
    func makeServer(maximumConcurrentCalls: Int = 8, maximumMessageBytes: Int = 1 << 20, tools: [String] = ["alpha", "slow"])
        -> (MCPSessionServer, FakeBridge, Outbox) {
        let bridge = FakeBridge(heldTools: ["slow"])
        let outbox = Outbox()
        let server = MCPSessionServer(
            options: MCPSessionOptions(endpointName: "Kitchen speaker", maximumConcurrentCalls: maximumConcurrentCalls,
                                       maximumMessageBytes: maximumMessageBytes),
            catalog: Fixtures.catalog(toolNames: tools), bridge: bridge, send: { outbox.send($0) })
        return (server, bridge, outbox)
    }

    func errorData(_ text: String) -> JSONValue? {
        guard case .error(let error)? = response(text)?.outcome else { return nil }
        return error.data
    }

    @Test func aCallPastTheConcurrencyLimitIsRefusedAtOnce() async throws {
        let (server, bridge, outbox) = makeServer(maximumConcurrentCalls: 2)
        for id in 1...3 {
            server.receive(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"slow"}}"#)
        }
        let refused = try #require(outbox.messages.first)
        #expect(response(refused)?.id == JSONRPCID(3))
        #expect(errorCode(refused) == JSONRPCError.internalErrorCode)
        #expect(errorData(refused)?["kind"] == .string("too-many-calls"))
        #expect(errorData(refused)?["limit"] == .integer(2))
        #expect(server.inFlightCallCount == 2)
        // ping is not a tool call: still answered at once.
        server.receive(#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#)
        #expect(outbox.messages.count == 2)

        bridge.release("slow")
        let answered = await outbox.waitFor(count: 4)
        #expect(Set(answered[2...].compactMap { response($0)?.id }) == [JSONRPCID(1), JSONRPCID(2)])
        server.receive(#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"alpha"}}"#)
        let next = await outbox.waitFor(count: 5)[4]
        #expect(resultValue(next) != nil)
        #expect(bridge.calls.count == 3)
    }

    @Test func aResultOverTheMessageLimitIsAnsweredWithAnErrorNamingItsSize() async throws {
        let (server, _, outbox) = makeServer(maximumMessageBytes: 4096)
        let big = String(repeating: "b", count: 10_000)
        server.receive(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"alpha","arguments":{"text":"\#(big)"}}}"#)
        let refused = await outbox.waitFor(count: 1)[0]
        #expect(refused.utf8.count <= 4096)
        #expect(response(refused)?.id == JSONRPCID(1))
        #expect(errorCode(refused) == JSONRPCError.internalErrorCode)
        let data = try #require(errorData(refused))
        #expect(data["kind"] == .string("message-too-large"))
        #expect(data["limit"] == .integer(4096))
        let size = try #require(data["size"]?.intValue)
        #expect(size > 10_000)
        guard case .error(let error)? = response(refused)?.outcome else { return }
        #expect(error.message.contains("\(size)") && error.message.contains("4096") && error.message.contains("alpha"))

        // The session goes on.
        server.receive(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"alpha","arguments":{"text":"small"}}}"#)
        let next = await outbox.waitFor(count: 2)[1]
        #expect(resultValue(next)?["structuredContent"]?["arguments"]?["text"] == .string("small"))
    }

    @Test func aToolsListPageOverTheMessageLimitIsAnError() throws {
        let (server, _, outbox) = makeServer(maximumMessageBytes: 1024, tools: (0..<40).map { "tool_\($0)" })
        server.receive(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        let answer = try #require(outbox.messages.first)
        #expect(answer.utf8.count <= 1024)
        #expect(errorData(answer)?["kind"] == .string("message-too-large"))
    }

    @Test func aSessionHoldsItsServicesUntilItCloses() throws {
        let bridge = HoldRecordingBridge()
        let first = Fixtures.catalog(
            bindings: [Fixtures.binding("b1", config: "c1", selected: #"["a"]"#), Fixtures.binding("b2", config: "c2", selected: #"["b"]"#)],
            configs: [Fixtures.config("c1"), Fixtures.config("c2", endpoint: "http://127.0.0.1:2/mcp")],
            tools: [Fixtures.tool("a", config: "c1"), Fixtures.tool("b", config: "c2")]).catalog
        let second = Fixtures.catalog(
            bindings: [Fixtures.binding("b1", config: "c1", selected: #"["a"]"#)],
            configs: [Fixtures.config("c1")], tools: [Fixtures.tool("a", config: "c1")]).catalog
        #expect(first.services.count == 2)
        let server = MCPSessionServer(options: MCPSessionOptions(endpointName: "e"), catalog: first, bridge: bridge, send: { _ in })
        #expect(bridge.holds == Dictionary(uniqueKeysWithValues: first.services.map { ($0, 1) }))
        // The service no longer bound is let go; the one in both catalogs stays held.
        server.replaceCatalog(second)
        #expect(bridge.holds == Dictionary(uniqueKeysWithValues: second.services.map { ($0, 1) }))
        server.close()
        server.close()
        #expect(bridge.holds.isEmpty)
        #expect(bridge.releaseCount == 2)
        server.replaceCatalog(first)
        #expect(bridge.holds.isEmpty, "a closed session holds nothing")
    }
}

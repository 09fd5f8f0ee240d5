import Testing
@testable import MCP

@Suite struct MCPSessionServerTests {
    func makeServer(tools: [String] = ["alpha", "beta", "slow"], held: Set<String> = ["slow"], pageSize: Int = 100)
        -> (MCPSessionServer, FakeBridge, Outbox) {
        let bridge = FakeBridge(heldTools: held)
        let outbox = Outbox()
        let server = MCPSessionServer(options: MCPSessionOptions(endpointName: "Kitchen speaker", pageSize: pageSize),
                                      catalog: Fixtures.catalog(toolNames: tools), bridge: bridge,
                                      send: { outbox.send($0) })
        return (server, bridge, outbox)
    }

    @Test(arguments: ["2024-11-05", "2025-03-26", "2025-06-18"])
    func initializeEchoesASupportedVersion(version: String) throws {
        let (server, _, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"xiaozhi","version":"1"}}}"#)
        let first = try #require(outbox.messages.first)
        let result = try #require(resultValue(first))
        #expect(result["protocolVersion"] == .string(version))
        #expect(result["serverInfo"]?["name"] == .string("Kitchen speaker"))
        #expect(result["capabilities"]?["tools"]?.isObject == true)
    }

    @Test func initializeAnswersOurLatestForAnUnknownVersion() throws {
        let (server, _, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2099-01-01"}}"#)
        #expect(resultValue(try #require(outbox.messages.first))?["protocolVersion"] == .string(MCPProtocolVersion.latest))
    }

    @Test func pingIsAnsweredWithAnEmptyObject() {
        let (server, _, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":"p-1","method":"ping"}"#)
        #expect(outbox.messages == [#"{"jsonrpc":"2.0","id":"p-1","result":{}}"#])
    }

    @Test func unknownMethodsGetMethodNotFoundWithTheirId() throws {
        let (server, _, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":98765432109876543210,"method":"resources/list"}"#)
        let message = try #require(outbox.messages.first)
        #expect(errorCode(message) == -32601)
        #expect(message.contains(#""id":98765432109876543210,"#))
    }

    @Test func notificationsGetNoAnswer() {
        let (server, _, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        server.receive(#"{"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":1}}"#)
        server.receive(#"{"jsonrpc":"2.0","id":5,"result":{}}"#)
        #expect(outbox.messages.isEmpty)
    }

    @Test func garbageGetsAParseError() {
        let (server, _, outbox) = makeServer()
        server.receive("hello")
        #expect(outbox.messages.map(errorCode) == [-32700])
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"alpha","arguments":[1]}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"missing"}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["alpha"]}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"bogus"}}"#,
    ])
    func badParamsGetInvalidParams(message: String) {
        let (server, bridge, outbox) = makeServer()
        server.receive(message)
        #expect(outbox.messages.map(errorCode) == [-32602])
        #expect(bridge.calls.isEmpty)
    }

    @Test func toolsListPagesThroughEveryTool() throws {
        let names = (1...7).map { "t\($0)" }
        let (server, _, outbox) = makeServer(tools: names, pageSize: 3)
        var listed: [String] = []
        var cursor: String?
        for round in 0..<5 {
            let params = cursor.map { #","params":{"cursor":"\#($0)"}"# } ?? ""
            server.receive(#"{"jsonrpc":"2.0","id":\#(round),"method":"tools/list"\#(params)}"#)
            let result = try #require(resultValue(outbox.messages[round]))
            listed += (result["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            cursor = result["nextCursor"]?.stringValue
            if cursor == nil { break }
        }
        #expect(listed == names.sorted())
    }

    @Test func toolsCallAnswersWithTheBridgesResultUnderTheCallersId() async throws {
        let (server, bridge, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":"0042","method":"tools/call","params":{"name":"alpha","arguments":{"n":12345678901234567890}}}"#)
        let reply = try #require(await outbox.waitFor(count: 1).first)
        #expect(reply == #"{"jsonrpc":"2.0","id":"0042","result":{"content":[{"type":"text","text":"alpha"}],"structuredContent":{"arguments":{"n":12345678901234567890}}}}"#)
        #expect(bridge.calls.map(\.toolName) == ["alpha"])
    }

    @Test func pingIsAnsweredWhileAToolCallRuns() async throws {
        let (server, bridge, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#)
        server.receive(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        server.receive(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"beta"}}"#)
        let early = await outbox.waitFor(count: 2)
        #expect(early.compactMap { response($0)?.id } == [JSONRPCID(2), JSONRPCID(3)])
        bridge.release("slow")
        let all = await outbox.waitFor(count: 3)
        #expect(response(all[2])?.id == JSONRPCID(1))
    }

    @Test func aCancelledCallGetsNoAnswer() async throws {
        let (server, bridge, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"slow"}}"#)
        server.receive(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c"}}"#)
        #expect(server.inFlightCallCount == 0)
        bridge.release("slow")
        server.receive(#"{"jsonrpc":"2.0","id":"after","method":"ping"}"#)
        #expect(outbox.messages.compactMap { response($0)?.id } == [JSONRPCID(string: "after")])
    }

    @Test func aSwappedCatalogReachesTheLiveSession() async throws {
        let (server, _, outbox) = makeServer(tools: ["alpha"])
        server.receive(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05"}}"#)
        server.receive(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        server.replaceCatalog(Fixtures.catalog(toolNames: ["gamma"]))
        server.receive(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        server.receive(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"alpha"}}"#)
        let messages = outbox.messages
        #expect(messages[1] == #"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#)
        #expect(resultValue(messages[2])?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["gamma"])
        #expect(errorCode(messages[3]) == -32602)
    }

    @Test func anUnchangedCatalogSendsNoNotice() {
        let (server, _, outbox) = makeServer(tools: ["alpha"])
        server.receive(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
        server.replaceCatalog(Fixtures.catalog(toolNames: ["alpha"]))
        #expect(outbox.messages.count == 1)
    }

    @Test func closingCancelsRunningCallsAndSilencesTheSession() async throws {
        let (server, bridge, outbox) = makeServer()
        server.receive(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#)
        server.close()
        bridge.release("slow")
        server.receive(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        #expect(server.inFlightCallCount == 0)
        #expect(outbox.messages.isEmpty)
    }

    @Test func aBridgeFailureBecomesAnInternalErrorNamingTheService() {
        let dispatcher = MCPSessionDispatcher(options: MCPSessionOptions(endpointName: "x"), catalog: .empty)
        let failure = BridgeFailure(kind: .timeout, serviceName: "weather", message: "Upstream MCP service 'weather': no answer")
        let reply = dispatcher.toolCallReply(id: JSONRPCID(string: "9"), outcome: .failed(failure))
        #expect(reply == #"{"jsonrpc":"2.0","id":"9","error":{"code":-32603,"message":"Upstream MCP service 'weather': no answer","data":{"kind":"timeout","service":"weather"}}}"#)
    }

    @Test func stdioServicesAreAnsweredWithAClearError() async {
        let bridge = UpstreamBridge()
        let service = UpstreamService(configId: "c", name: "local tool", endpoint: "npx some-server", transport: .init(protocolName: "stdio"),
                                      authentication: .none, userId: nil)
        let outcome = await bridge.callTool(ToolCallRequest(toolName: "a", arguments: nil, service: service))
        guard case .failed(let failure) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(failure.kind == .unsupportedTransport)
        #expect(failure.message.contains("stdio"))
        await bridge.shutdown()
    }
}

import Foundation
import JSON
import Testing
@testable import MCP

/// Shared reference-SDK services, one per transport, each checking a different kind of credential.
actor SharedPeers {
    static let shared = SharedPeers()
    private var peers: [MCPPeer.Kind: MCPPeer] = [:]

    func peer(_ kind: MCPPeer.Kind) async throws -> MCPPeer {
        if let peer = peers[kind] { return peer }
        let peer: MCPPeer
        switch kind {
        case .streamableHTTP:
            peer = try await MCPPeer.start(kind, authHeader: "Authorization", authValue: "Bearer shared-token", userId: "owner-1")
        case .streamableHTTPJSON:
            // "bridge:s3cret" in Basic form.
            peer = try await MCPPeer.start(kind, authHeader: "Authorization", authValue: "Basic YnJpZGdlOnMzY3JldA==", userId: "owner-1")
        case .sse: peer = try await MCPPeer.start(kind, authHeader: "X-Api-Key", authValue: "Key shared-key", userId: "owner-1")
        case .garbage: peer = try await MCPPeer.start(kind, authValue: "x", userId: "x")
        }
        peers[kind] = peer
        return peer
    }
}

/// The service config that reaches a peer with the credentials it expects.
func service(for peer: MCPPeer, name: String = "peer", userId: String? = nil, badSecret: Bool = false) -> UpstreamService {
    let authentication: UpstreamAuthentication
    switch peer.kind {
    case .sse:
        authentication = .apiKey(key: badSecret ? "wrong-key" : "shared-key", headerName: "X-Api-Key", prefix: "Key")
    case .streamableHTTPJSON:
        authentication = .basic(username: "bridge", password: badSecret ? "wrong-token" : "s3cret")
    default:
        let token = String(peer.authValue.dropFirst("Bearer ".count))
        authentication = .bearer(token: badSecret ? "wrong-token" : token, headerName: "Authorization")
    }
    let transport: UpstreamTransport = peer.kind == .sse ? .serverSentEvents : .streamableHTTP
    return UpstreamService(configId: "config-\(peer.kind)", name: name, endpoint: peer.url, transport: transport,
                           authentication: authentication, userId: userId ?? peer.userId)
}

func call(_ bridge: UpstreamBridge, _ service: UpstreamService, _ tool: String, _ arguments: String) async throws -> ToolCallOutcome {
    await bridge.callTool(ToolCallRequest(toolName: tool, arguments: try JSONValue(parsing: arguments), service: service))
}

func resultJSON(_ outcome: ToolCallOutcome) throws -> JSONValue {
    guard case .result(let raw) = outcome else { throw PeerError(description: "expected a result, got \(outcome)") }
    return try JSONValue(parsing: raw)
}

func failure(_ outcome: ToolCallOutcome) throws -> BridgeFailure {
    guard case .failed(let failure) = outcome else { throw PeerError(description: "expected a failure, got \(outcome)") }
    return failure
}

@Suite struct BridgeIntegrationTests {
    static let transports: [MCPPeer.Kind] = [.streamableHTTP, .streamableHTTPJSON, .sse]

    @Test(arguments: transports)
    func textStructuredAndErrorResultsMatchADirectCall(kind: MCPPeer.Kind) async throws {
        let peer = try await SharedPeers.shared.peer(kind)
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        for (tool, arguments) in [("echo", #"{"text":"你好, \"world\""}"#), ("add", #"{"a":40,"b":2}"#), ("fail", #"{"reason":"no such city"}"#)] {
            let bridged = try resultJSON(try await call(bridge, service(for: peer), tool, arguments))
            let direct = try await peer.callDirectly(tool: tool, arguments: arguments)
            #expect(bridged.isSemanticallyEqual(to: direct), "\(tool): bridged \(bridged.jsonText) vs direct \(direct.jsonText)")
        }
    }

    @Test(arguments: transports)
    func aMebibyteResultArrivesWhole(kind: MCPPeer.Kind) async throws {
        let peer = try await SharedPeers.shared.peer(kind)
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        let result = try resultJSON(try await call(bridge, service(for: peer), "big", #"{"size":1048576}"#))
        let text = try #require(result["content"]?.arrayValue?.first?["text"]?.stringValue)
        #expect(text.utf8.count == 1_048_576)
        #expect(text == bigText(size: 1_048_576))
    }

    @Test(arguments: transports)
    func pingIsAnsweredWhileASlowToolRuns(kind: MCPPeer.Kind) async throws {
        let peer = try await SharedPeers.shared.peer(kind)
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        let (authType, authConfig): (String, String) = switch kind {
        case .sse: ("APIKEY", #"{"apiKey":"shared-key","headerName":"X-Api-Key","prefix":"Key"}"#)
        case .streamableHTTPJSON: ("basic", #"{"username":"bridge","password":"s3cret"}"#)
        default: ("Bearer", #"{"token":"shared-token"}"#)
        }
        let config = ServiceConfigRow(id: "c1", name: "peer", endpoint: peer.url, authenticationType: authType,
                                      authenticationConfig: authConfig, protocolName: kind == .sse ? "sse" : "http",
                                      userId: peer.userId, isPublic: false)
        let (catalog, issues) = ToolCatalog.build(
            endpointId: "ep", ownerUserId: peer.userId,
            bindings: [ServiceBindingRow(id: "b1", xiaozhiMcpEndpointId: "ep", mcpServiceConfigId: "c1", isActive: true,
                                         selectedToolNames: #"["sleep","echo"]"#, createdAt: Date())],
            serviceConfigs: [config],
            tools: [ToolRow(id: "t1", name: "sleep", mcpServiceConfigId: "c1", description: "sleeps", inputSchema: #"{"type":"object","properties":{"seconds":{"type":"number"}}}"#, createdAt: Date()),
                    ToolRow(id: "t2", name: "echo", mcpServiceConfigId: "c1", description: "echoes", inputSchema: nil, createdAt: Date())])
        #expect(issues.isEmpty)
        let outbox = Outbox()
        let server = MCPSessionServer(options: MCPSessionOptions(endpointName: "ep"), catalog: catalog, bridge: bridge, send: { outbox.send($0) })
        server.receive(#"{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"sleep","arguments":{"seconds":10}}}"#)
        server.receive(#"{"jsonrpc":"2.0","id":"ping","method":"ping"}"#)
        server.receive(#"{"jsonrpc":"2.0","id":"fast","method":"tools/call","params":{"name":"echo","arguments":{"text":"quick"}}}"#)
        let messages = await outbox.waitFor(count: 3)
        #expect(messages.compactMap { response($0)?.id?.rawJSON } == [#""ping""#, #""fast""#, #""slow""#])
        #expect(resultValue(messages[2])?["content"]?.arrayValue?.first?["text"] == .string("slept 10.0"))
    }

    @Test(arguments: transports)
    func wrongCredentialsGiveAClearErrorWithoutTheSecret(kind: MCPPeer.Kind) async throws {
        let peer = try await SharedPeers.shared.peer(kind)
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        let failed = try failure(try await call(bridge, service(for: peer, name: "weather", badSecret: true), "echo", #"{"text":"x"}"#))
        #expect(failed.kind == .authenticationRejected)
        #expect(failed.httpStatus == 401)
        #expect(failed.message.contains("weather") && failed.message.contains("401"))
        let reply = MCPSessionDispatcher(options: .init(endpointName: "e"), catalog: .empty).toolCallReply(id: JSONRPCID(1), outcome: .failed(failed))
        #expect(!reply.contains("wrong-token") && !reply.contains("wrong-key"))
    }

    @Test(arguments: transports)
    func aForeignOwnerIsRefused(kind: MCPPeer.Kind) async throws {
        let peer = try await SharedPeers.shared.peer(kind)
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        let failed = try failure(try await call(bridge, service(for: peer, userId: "someone-else"), "echo", #"{"text":"x"}"#))
        #expect(failed.kind == .authenticationRejected)
        #expect(failed.httpStatus == 403)
    }

    @Test(arguments: transports)
    func aCallPastItsDeadlineTimesOutAndTheSessionGoesOn(kind: MCPPeer.Kind) async throws {
        let peer = try await SharedPeers.shared.peer(kind)
        // A deadline generous enough for a loaded machine, far below the sleep.
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(10)))
        defer { Task { await bridge.shutdown() } }
        let target = service(for: peer)
        #expect(try resultJSON(try await call(bridge, target, "echo", #"{"text":"warm"}"#))["isError"] == .bool(false))
        let failed = try failure(try await call(bridge, target, "sleep", #"{"seconds":120}"#))
        #expect(failed.kind == .timeout)
        let after = try resultJSON(try await call(bridge, target, "echo", #"{"text":"after"}"#))
        #expect(after["content"]?.arrayValue?.first?["text"] == .string("after"))
    }

    @Test(arguments: transports)
    func concurrentCallsEachGetTheirOwnAnswer(kind: MCPPeer.Kind) async throws {
        let peer = try await SharedPeers.shared.peer(kind)
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        let target = service(for: peer)
        let texts = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for i in 0..<25 {
                group.addTask {
                    let result = try resultJSON(try await call(bridge, target, "echo", #"{"text":"n\#(i)"}"#))
                    return (i, result["content"]?.arrayValue?.first?["text"]?.stringValue)
                }
            }
            var texts: [Int: String] = [:]
            for try await (i, text) in group { texts[i] = text }
            return texts
        }
        #expect(texts == Dictionary(uniqueKeysWithValues: (0..<25).map { ($0, "n\($0)") }))
    }

    @Test(arguments: transports)
    func aServiceThatAnswersGarbageGivesAMalformedResponseError(kind: MCPPeer.Kind) async throws {
        let garbage = try await SharedPeers.shared.peer(.garbage)
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        let transport: UpstreamTransport = kind == .sse ? .serverSentEvents : .streamableHTTP
        let target = UpstreamService(configId: "g", name: "garbage", endpoint: garbage.url, transport: transport, authentication: .none, userId: nil)
        let failed = try failure(try await call(bridge, target, "echo", "{}"))
        #expect(failed.kind == .malformedResponse)
        #expect(failed.message.contains("garbage"))
    }

    @Test(arguments: transports)
    func aServiceThatIsDownGivesAnUnreachableError(kind: MCPPeer.Kind) async throws {
        let port = try closedLoopbackPort()
        let bridge = UpstreamBridge()
        defer { Task { await bridge.shutdown() } }
        let transport: UpstreamTransport = kind == .sse ? .serverSentEvents : .streamableHTTP
        let target = UpstreamService(configId: "d", name: "down", endpoint: "http://127.0.0.1:\(port)/mcp?token=qsecret", transport: transport,
                                     authentication: .bearer(token: "t", headerName: "Authorization"), userId: nil)
        let failed = try failure(try await call(bridge, target, "echo", "{}"))
        #expect(failed.kind == .unreachable)
        #expect(failed.message.contains("127.0.0.1:\(port)") && !failed.message.contains("qsecret"))
    }
}

@Suite struct BridgeCancellationTests {
    @Test(arguments: [MCPPeer.Kind.streamableHTTP, .sse])
    func aCallPastItsDeadlineIsCancelledUpstream(kind: MCPPeer.Kind) async throws {
        let peer = try await MCPPeer.start(kind, authHeader: kind == .sse ? "X-Api-Key" : "Authorization",
                                           authValue: kind == .sse ? "Key shared-key" : "Bearer shared-token", userId: "owner-1")
        defer { Task { await peer.kill() } }
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(10)))
        defer { Task { await bridge.shutdown() } }
        let target = service(for: peer)
        #expect(try failure(try await call(bridge, target, "sleep", #"{"seconds":120}"#)).kind == .timeout)
        // The service hears of it through notifications/cancelled; poll until it has (or give up after a while).
        var count: JSONValue?
        for _ in 0..<50 {
            count = try resultJSON(try await call(bridge, target, "cancelled_sleeps", "{}"))["structuredContent"]?["result"]
            if count == .integer(1) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(count == .integer(1))
    }
}

import Foundation
import JSON
import Testing
@testable import MCP

/// The bridge's upstream sessions on real sockets: closed when the last Xiaozhi session using their
/// service ends or stops binding it, and never more than `maximumConnections`.
@Suite struct UpstreamConnectionPoolTests {
    func service(_ peer: HostilePeer, _ n: Int) -> UpstreamService {
        UpstreamService(configId: "pool-\(n)", name: "pool \(n)", endpoint: peer.streamableURL, transport: .streamableHTTP,
                        authentication: .none, userId: "owner")
    }

    func catalog(_ services: [UpstreamService]) -> ToolCatalog {
        ToolCatalog(tools: services.map { CatalogTool(name: "echo_\($0.configId)", description: nil, inputSchema: .object([]),
                                                      service: $0, bindingId: "b", toolId: $0.configId) })
    }

    func echo(_ bridge: UpstreamBridge, _ service: UpstreamService, _ text: String) async -> String? {
        let outcome = await bridge.callTool(ToolCallRequest(toolName: "echo", arguments: .object(["text": .string(text)]), service: service))
        guard case .result(let raw) = outcome else { return nil }
        return (try? JSONValue(parsing: raw))?["content"]?.arrayValue?.first?["text"]?.stringValue
    }

    @Test func aServiceNoSessionUsesIsClosed() async throws {
        let peer = try await HostilePeers.shared.peer(jsonResponse: false)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(30)))
        defer { Task { await bridge.shutdown() } }
        let (a, b) = (service(peer, 1), service(peer, 2))
        let first = MCPSessionServer(options: MCPSessionOptions(endpointName: "one"), catalog: catalog([a, b]), bridge: bridge, send: { _ in })
        let second = MCPSessionServer(options: MCPSessionOptions(endpointName: "two"), catalog: catalog([a]), bridge: bridge, send: { _ in })
        #expect(await echo(bridge, a, "a") == "a")
        #expect(await echo(bridge, b, "b") == "b")
        #expect(bridge.connectionCount == 2)

        // The first session stops binding b: nobody uses it any more.
        first.replaceCatalog(catalog([a]))
        #expect(!bridge.hasConnection(for: b))
        #expect(bridge.hasConnection(for: a))
        // a is still used by the second session.
        first.close()
        #expect(bridge.hasConnection(for: a))
        second.close()
        #expect(bridge.connectionCount == 0)
    }

    @Test func theLeastRecentlyUsedSessionMakesRoomAndCallsStillWork() async throws {
        let peer = try await HostilePeers.shared.peer(jsonResponse: false)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(30), maximumConnections: 2))
        defer { Task { await bridge.shutdown() } }
        for round in 0..<2 {
            for n in 1...5 {
                #expect(await echo(bridge, service(peer, n), "r\(round)s\(n)") == "r\(round)s\(n)")
                #expect(bridge.connectionCount <= 2)
            }
        }
        #expect(bridge.hasConnection(for: service(peer, 5)) && bridge.hasConnection(for: service(peer, 4)))
    }

    @Test func whenEverySessionIsBusyANewServiceIsRefusedWithAClearError() async throws {
        let peer = try await HostilePeers.shared.peer(jsonResponse: false)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(30), maximumConnections: 1))
        defer { Task { await bridge.shutdown() } }
        let (a, b) = (service(peer, 1), service(peer, 2))
        let busy = Task {
            await bridge.callTool(ToolCallRequest(toolName: "keepalive", arguments: .object(["seconds": .integer(3)]), service: a))
        }
        while !bridge.hasConnection(for: a) { try await Task.sleep(for: .milliseconds(10)) }
        let refused = try failure(await bridge.callTool(ToolCallRequest(toolName: "echo", arguments: nil, service: b)))
        #expect(refused.kind == .tooManyConnections)
        #expect(refused.message.contains("1 upstream sessions"))
        _ = try resultJSON(await busy.value)
        #expect(await echo(bridge, b, "later") == "later")
    }
}

import Foundation
import Testing
@testable import MCP

/// Stops and restarts upstream services (their own, not the shared ones) under a live bridge.
@Suite struct BridgeOutageTests {
    static let transports: [MCPPeer.Kind] = [.streamableHTTP, .sse]

    func startPeer(_ kind: MCPPeer.Kind) async throws -> MCPPeer {
        try await MCPPeer.start(kind, authHeader: "Authorization", authValue: "Bearer outage-token", userId: "owner-2")
    }

    func target(_ peer: MCPPeer) -> UpstreamService {
        UpstreamService(configId: "outage-\(peer.kind)", name: "flaky", endpoint: peer.url,
                        transport: peer.kind == .sse ? .serverSentEvents : .streamableHTTP,
                        authentication: .bearer(token: "outage-token", headerName: "Authorization"), userId: "owner-2")
    }

    func echo(_ bridge: UpstreamBridge, _ service: UpstreamService, _ text: String) async throws -> ToolCallOutcome {
        try await call(bridge, service, "echo", #"{"text":"\#(text)"}"#)
    }

    func echoedText(_ outcome: ToolCallOutcome) throws -> String? {
        try resultJSON(outcome)["content"]?.arrayValue?.first?["text"]?.stringValue
    }

    @Test(arguments: transports)
    func aStoppedServiceGivesAnErrorAndTheNextCallWorksAfterItRestarts(kind: MCPPeer.Kind) async throws {
        let peer = try await startPeer(kind)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(20)))
        defer { Task { await bridge.shutdown() } }
        let service = target(peer)
        #expect(try echoedText(try await echo(bridge, service, "before")) == "before")

        await peer.kill()
        let failed = try failure(try await echo(bridge, service, "during"))
        #expect([.unreachable, .connectionLost].contains(failed.kind))

        let restarted = try await peer.restart()
        defer { Task { await restarted.kill() } }
        #expect(try echoedText(try await echo(bridge, service, "after")) == "after")
    }

    @Test(arguments: transports)
    func aRestartedServiceThatForgotTheSessionIsJoinedAgain(kind: MCPPeer.Kind) async throws {
        let peer = try await startPeer(kind)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(20)))
        defer { Task { await bridge.shutdown() } }
        let service = target(peer)
        #expect(try echoedText(try await echo(bridge, service, "first")) == "first")

        await peer.kill()
        let restarted = try await peer.restart()
        defer { Task { await restarted.kill() } }
        #expect(try echoedText(try await echo(bridge, service, "second")) == "second")
    }

    @Test(arguments: transports)
    func aServiceKilledDuringACallFailsThatCallWithoutWaitingForTheDeadline(kind: MCPPeer.Kind) async throws {
        let peer = try await startPeer(kind)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(120)))
        defer { Task { await bridge.shutdown() } }
        let service = target(peer)
        #expect(try echoedText(try await echo(bridge, service, "warm")) == "warm")
        let slow = Task { try await call(bridge, service, "sleep", #"{"seconds":60}"#) }
        try await Task.sleep(for: .seconds(1))
        await peer.kill()
        let failed = try failure(try await slow.value)
        #expect([.connectionLost, .unreachable].contains(failed.kind))
    }
}

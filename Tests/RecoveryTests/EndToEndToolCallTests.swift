import Foundation
import Testing
@testable import Recovery

/// Xiaozhi's side of a recovered session: `tools/list` shows the tools the tables bind, and `tools/call`
/// reaches the bound MCP service (the reference SDK over Streamable HTTP, checking its bearer token).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct EndToEndToolCallTests {
    @Test func xiaozhiListsTheBoundToolsAndCallsThemThroughTheWorker() async throws {
        let peer = try UpstreamPeer.start(authValue: "Bearer e2e-upstream-secret", userId: "e2e-user")
        defer { peer.stop() }
        let cluster = try await PoolCluster()
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(1)
            try await bindTools(cluster, upstream: "http://127.0.0.1:\(peer.port)/mcp")
            try cluster.startScheduler()
            try cluster.startWorker()
            #expect(try await cluster.waitUntilConnected(1, timeout: .seconds(30)))

            let listed = await eventually(timeout: .seconds(15)) {
                guard let data = try? await cluster.httpRaw("GET", "/status"),
                      let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let sessions = status["sessions"] as? [[String: Any]], let tools = sessions.first?["tools"] as? [String] else { return false }
                return tools == ["add", "echo"]
            }
            #expect(listed, "\(cluster.logs)")

            let echo = try await call(cluster, #"{"token":"token-1","name":"echo","arguments":{"text":"你好 from Xiaozhi"}}"#)
            #expect(echo["ok"] as? Bool == true)
            let content = (echo["body"] as? [String: Any])?["content"] as? [[String: Any]]
            #expect(content?.first?["text"] as? String == "你好 from Xiaozhi")

            let add = try await call(cluster, #"{"token":"token-1","name":"add","arguments":{"a":2,"b":3}}"#)
            let structured = (add["body"] as? [String: Any])?["structuredContent"] as? [String: Any]
            #expect(structured?["total"] as? Int == 5)

            let unbound = try await call(cluster, #"{"token":"token-1","name":"sleep","arguments":{"seconds":0}}"#)
            #expect(unbound["ok"] as? Bool == false || ((unbound["body"] as? [String: Any])?["isError"] as? Bool) == true)

            // A change in the tables reaches the live session without dropping it.
            _ = try await cluster.postgres.execute(
                "UPDATE \(cluster.schema.bindings) SET \"SelectedToolNames\" = '[\"echo\",\"add\",\"sleep\"]', \"UpdatedAt\" = now() WHERE \"Id\" = 'bind-1'")
            let relisted = await eventually(timeout: .seconds(15)) {
                guard let data = try? await cluster.httpRaw("GET", "/status"),
                      let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let sessions = status["sessions"] as? [[String: Any]], let tools = sessions.first?["tools"] as? [String] else { return false }
                return tools == ["add", "echo", "sleep"]
            }
            #expect(relisted, "\(cluster.logs)")
            let slept = try await call(cluster, #"{"token":"token-1","name":"sleep","arguments":{"seconds":0}}"#)
            #expect(slept["ok"] as? Bool == true)
            #expect(try await cluster.simulatorStatus().connects == 1)
            #expect(!cluster.logs.contains("e2e-upstream-secret"))
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    private func call(_ cluster: PoolCluster, _ body: String) async throws -> [String: Any] {
        let data = try await cluster.httpRaw("POST", "/call", body: body)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// One service config with bearer authentication, a binding selecting `echo` and `add`, and three tools.
    private func bindTools(_ cluster: PoolCluster, upstream: String) async throws {
        let schema = cluster.schema
        let endpoint = PoolCluster.endpointId(1)
        _ = try await cluster.postgres.execute(
            "INSERT INTO \(schema.serviceConfigs) (\"Id\", \"Name\", \"Endpoint\", \"UserId\", \"IsPublic\", \"AuthenticationType\", \"AuthenticationConfig\", \"Protocol\") VALUES ('cfg-1', 'peer', $1, 'e2e-user', false, 'Bearer', $2, 'streamable-http')",
            [.text(upstream), .text(#"{"token":"e2e-upstream-secret"}"#)])
        _ = try await cluster.postgres.execute(
            "INSERT INTO \(schema.bindings) (\"Id\", \"XiaozhiMcpEndpointId\", \"McpServiceConfigId\", \"UserId\", \"IsActive\", \"SelectedToolNames\") VALUES ('bind-1', $1, 'cfg-1', 'e2e-user', true, '[\"echo\",\"add\"]')",
            [.text(endpoint.rawValue)])
        let tools: [(String, String)] = [
            ("echo", #"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}"#),
            ("add", #"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}"#),
            ("sleep", #"{"type":"object","properties":{"seconds":{"type":"number"}}}"#),
        ]
        for (name, inputSchema) in tools {
            _ = try await cluster.postgres.execute(
                "INSERT INTO \(schema.tools) (\"Id\", \"Name\", \"McpServiceConfigId\", \"UserId\", \"InputSchema\") VALUES ($1, $1, 'cfg-1', 'e2e-user', $2)",
                [.text(name), .text(inputSchema)])
        }
    }
}

/// The reference-SDK MCP service of `Tests/MCPTests/Peers/mcp_peer.py`, over Streamable HTTP. It exits when
/// its standard input closes, so it never outlives the test process.
final class UpstreamPeer: @unchecked Sendable {
    let port: Int

    private init(port: Int) { self.port = port }

    static func start(authValue: String, userId: String) throws -> UpstreamPeer {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MCPTests/Peers/mcp_peer.py")
        let process = Process()
        let stdin = Pipe(), stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--transport", "streamable-http", "--auth-header", "Authorization", "--auth-value", authValue, "--user-id", userId]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { throw HarnessError("the MCP peer exited before printing its port") }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let port = PoolCluster.port(in: text, after: "PORT ") else { throw HarnessError("unexpected MCP peer output: \(text)") }
        let peer = UpstreamPeer(port: port)
        peer.keep(process, stdin)
        return peer
    }

    private var running: Process?
    private var input: Pipe?

    private func keep(_ process: Process, _ stdin: Pipe) {
        running = process
        input = stdin
    }

    func stop() {
        try? input?.fileHandleForWriting.close()
        if let running, running.isRunning { kill(running.processIdentifier, SIGKILL) }
    }
}

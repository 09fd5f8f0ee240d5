import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MCP
import Synchronization

/// `tools/call` round trips through a Xiaozhi session's MCP server and the upstream bridge,
/// against the same upstream called directly over HTTP; then concurrent calls through the bridge.
struct BridgeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Round trip of tools/call through the MCP bridge vs the same upstream called directly.")

    @Option(help: "Streamable HTTP URL of an upstream MCP service with an `echo` tool; when absent, the reference-SDK peer is started.")
    var upstream: String?

    @Option(help: "The peer script started when --upstream is absent.")
    var peerScript = "Tests/MCPTests/Peers/mcp_peer.py"

    @Option(help: "Sequential calls measured per path.")
    var iterations = 500

    @Option(help: "Calls run at once in the concurrency round.")
    var concurrency = 100

    @Option(help: "Rounds of concurrent calls.")
    var rounds = 5

    @Option(help: "Characters of the echoed text.")
    var payload = 64

    func run() async throws {
        var peer: Process?
        let url: String
        if let upstream {
            url = upstream
        } else {
            let (process, port) = try startPeer()
            peer = process
            url = "http://127.0.0.1:\(port)/mcp"
        }
        defer { if let peer { kill(peer.processIdentifier, SIGKILL) } }
        let token = "bench-token"
        let userId = "bench-user"
        let text = String(repeating: "x", count: payload)
        let arguments = #"{"text":"\#(text)"}"#

        // Direct: one upstream session, raw JSON-RPC POSTs.
        let direct = try await DirectUpstream.open(url: url, token: token, userId: userId)
        for _ in 0..<20 { try await direct.callEcho(arguments) }
        var directSamples: [Double] = []
        for _ in 0..<iterations {
            let start = ContinuousClock.now
            try await direct.callEcho(arguments)
            directSamples.append(start.duration(to: .now).milliseconds)
        }

        // Through the session server and the bridge.
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(30), maximumIdleConnectionsPerHost: max(16, concurrency)))
        let service = UpstreamService(configId: "bench", name: "bench", endpoint: url, transport: .streamableHTTP,
                                      authentication: .bearer(token: token, headerName: "Authorization"), userId: userId)
        let catalog = ToolCatalog(tools: [CatalogTool(name: "echo", description: nil, inputSchema: .object(["type": .string("object")]),
                                                      service: service, bindingId: "b", toolId: "t")])
        let replies = ReplyWaiters()
        // The whole concurrency round runs on one session: allow it past the per-session default.
        let server = MCPSessionServer(options: MCPSessionOptions(endpointName: "bench", maximumConcurrentCalls: max(8, concurrency)), catalog: catalog, bridge: bridge,
                                      send: { replies.deliver($0) })
        var nextId = 0
        func bridged() async throws -> Double {
            nextId += 1
            let id = nextId
            let start = ContinuousClock.now
            let reply = await replies.wait(for: id) {
                server.receive(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"echo","arguments":\#(arguments)}}"#)
            }
            let elapsed = start.duration(to: .now).milliseconds
            guard reply.contains("\"result\"") else { throw ValidationError("bridged call failed: \(reply.prefix(300))") }
            return elapsed
        }
        for _ in 0..<20 { _ = try await bridged() }
        var bridgeSamples: [Double] = []
        for _ in 0..<iterations { bridgeSamples.append(try await bridged()) }

        // Concurrent calls through the bridge.
        var concurrentSamples: [Double] = []
        var wall: [Double] = []
        for round in 0..<rounds {
            let base = 1_000_000 * (round + 1)
            let start = ContinuousClock.now
            let samples = try await withThrowingTaskGroup(of: Double.self) { group in
                for i in 0..<concurrency {
                    let id = base + i
                    group.addTask {
                        let begin = ContinuousClock.now
                        let reply = await replies.wait(for: id) {
                            server.receive(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"echo","arguments":\#(arguments)}}"#)
                        }
                        guard reply.contains("\"result\"") else { throw ValidationError("concurrent call failed: \(reply.prefix(300))") }
                        return begin.duration(to: .now).milliseconds
                    }
                }
                var all: [Double] = []
                for try await sample in group { all.append(sample) }
                return all
            }
            wall.append(start.duration(to: .now).milliseconds)
            concurrentSamples += samples
        }
        server.close()
        await bridge.shutdown()

        // The same concurrency straight to the upstream, to tell its limit from the bridge's.
        var directConcurrent: [Double] = []
        var directWall: [Double] = []
        let wide = try await DirectUpstream.open(url: url, token: token, userId: userId, connections: max(16, concurrency))
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            let samples = try await withThrowingTaskGroup(of: Double.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        let begin = ContinuousClock.now
                        try await wide.callEcho(arguments)
                        return begin.duration(to: .now).milliseconds
                    }
                }
                var all: [Double] = []
                for try await sample in group { all.append(sample) }
                return all
            }
            directWall.append(start.duration(to: .now).milliseconds)
            directConcurrent += samples
        }

        print("tools/call round trip, \(iterations) sequential calls each, echo of \(payload) characters, upstream \(upstream == nil ? "reference-SDK peer (Python)" : url)")
        print(Self.line("direct HTTP to upstream", directSamples))
        print(Self.line("session server + bridge", bridgeSamples))
        let overhead50 = Self.percentile(bridgeSamples, 0.5) - Self.percentile(directSamples, 0.5)
        print(String(format: "bridge overhead at p50: %.3f ms", overhead50))
        print("\(concurrency) concurrent calls, \(rounds) rounds")
        for (label, samples, walls) in [("session server + bridge", concurrentSamples, wall), ("direct HTTP to upstream", directConcurrent, directWall)] {
            print(Self.line(label, samples))
            let meanWall = walls.reduce(0, +) / Double(walls.count)
            print(String(format: "  %-26@ wall per round: mean %.1f ms, %.0f calls/s", "" as NSString, meanWall, Double(concurrency) / meanWall * 1000))
        }
    }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    static func line(_ label: String, _ samples: [Double]) -> String {
        String(format: "  %-26@ p50 %.3f ms  p99 %.3f ms  max %.3f ms  (n=%d)", label as NSString,
               percentile(samples, 0.5), percentile(samples, 0.99), samples.max() ?? .nan, samples.count)
    }

    func startPeer() throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", peerScript, "--transport", "streamable-http", "--auth-header", "Authorization",
                             "--auth-value", "Bearer bench-token", "--user-id", "bench-user"]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = Pipe()
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            throw ValidationError("the peer \(peerScript) did not start (run from the package root or pass --peer-script)")
        }
        return (process, port)
    }
}


/// Matches replies of the session server to the callers waiting for them, by numeric id.
final class ReplyWaiters: Sendable {
    private let waiting = Mutex<[Int: CheckedContinuation<String, Never>]>([:])

    func wait(for id: Int, send: () -> Void) async -> String {
        await withCheckedContinuation { continuation in
            waiting.withLock { $0[id] = continuation }
            send()
        }
    }

    func deliver(_ text: String) {
        guard let range = text.range(of: #""id":"#) else { return }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        guard let id = Int(digits), let continuation = waiting.withLock({ $0.removeValue(forKey: id) }) else { return }
        continuation.resume(returning: text)
    }
}

/// A minimal Streamable HTTP client for the baseline: initialize once, then POST tools/call.
struct DirectUpstream: Sendable {
    private static let nextId = Atomic<Int>(1)
    let url: URL
    let headers: [String: String]
    let session: URLSession

    static func open(url: String, token: String, userId: String, connections: Int = 16) async throws -> DirectUpstream {
        guard let endpoint = URL(string: url) else { throw ValidationError("bad upstream URL") }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = connections
        let session = URLSession(configuration: configuration)
        var headers = ["Authorization": "Bearer \(token)", "X-User-Id": userId, "Content-Type": "application/json",
                       "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"]
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = Data(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#.utf8)
        let (_, response) = try await session.data(for: request)
        if let id = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Mcp-Session-Id") { headers["Mcp-Session-Id"] = id }
        let direct = DirectUpstream(url: endpoint, headers: headers, session: session)
        _ = try await direct.post(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        return direct
    }

    func post(_ body: String) async throws -> Data {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = Data(body.utf8)
        return try await session.data(for: request).0
    }

    func callEcho(_ arguments: String) async throws {
        // Request ids must differ among calls in flight on one upstream session.
        let id = Self.nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        let body = try await post(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"echo","arguments":\#(arguments)}}"#)
        guard String(decoding: body, as: UTF8.self).contains("\"result\"") else {
            throw ValidationError("direct call failed: \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
    }
}

import ArgumentParser
import Foundation
import Glibc
import JSON
import MCP
import Synchronization

/// Resident memory of a process running the upstream bridge (as a worker does) while hostile upstream
/// services send an endless event-stream line, endless events, or a 100 MiB answer: before, peak
/// (sampled every millisecond until the service has stopped sending) and after.
struct UpstreamMemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upstream-memory",
        abstract: "RSS of the bridge under hostile upstream answers (endless SSE line, endless events, 100 MiB).")

    @Option(help: "The hostile peer script.")
    var peerScript = "Tests/MCPTests/Peers/hostile_peer.py"

    @Option(help: "Calls of each hostile tool.")
    var repeats = 3

    func run() async throws {
        let eventPeer = try HostilePeerProcess(script: peerScript, json: false)
        let jsonPeer = try HostilePeerProcess(script: peerScript, json: true)
        defer {
            eventPeer.stop()
            jsonPeer.stop()
        }
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(60)))
        let cases: [(label: String, peer: HostilePeerProcess, transport: UpstreamTransport, tool: String)] = [
            ("streamable-http, endless SSE data: line", eventPeer, .streamableHTTP, "endless_line"),
            ("streamable-http, endless SSE events", eventPeer, .streamableHTTP, "endless_events"),
            ("streamable-http, 100 MiB SSE event", eventPeer, .streamableHTTP, "huge"),
            ("streamable-http, 100 MiB JSON body", jsonPeer, .streamableHTTP, "huge"),
            ("sse, endless data: line on the stream", eventPeer, .serverSentEvents, "endless_line"),
            ("sse, 100 MiB event on the stream", eventPeer, .serverSentEvents, "huge"),
        ]
        print("bridge defaults: 4 MiB per answer, 4 MiB per SSE line and event; RSS at start \(mebibytes(residentBytes()))")
        for entry in cases {
            let service = UpstreamService(
                configId: "bench-\(entry.peer.port)-\(entry.transport)", name: "hostile", endpoint: entry.transport == .serverSentEvents
                    ? "http://127.0.0.1:\(entry.peer.port)/sse" : "http://127.0.0.1:\(entry.peer.port)/mcp",
                transport: entry.transport, authentication: .none, userId: "bench")
            _ = await bridge.callTool(ToolCallRequest(toolName: "echo", arguments: .object(["text": .string("warm")]), service: service))
            for round in 1...repeats {
                let writtenBefore = try await entry.peer.written(entry.tool)
                let before = residentBytes()
                let sampler = PeakSampler()
                let outcome = await bridge.callTool(ToolCallRequest(toolName: entry.tool, arguments: nil, service: service))
                let written = try await entry.peer.writtenOnceSettled(entry.tool) - writtenBefore
                let peak = sampler.stop()
                let after = residentBytes()
                let kind: String
                switch outcome {
                case .failed(let failure): kind = failure.kind.rawValue
                case .result: kind = "result"
                case .upstreamError: kind = "upstream error"
                }
                print("\(entry.label) #\(round): \(kind); RSS before \(mebibytes(before)), peak \(mebibytes(peak)) (+\(mebibytes(peak - before))), after \(mebibytes(after)); the service sent \(mebibytes(written))")
            }
        }
        await bridge.shutdown()
    }
}

private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

/// The highest RSS seen, sampled every millisecond on a thread of its own.
private final class PeakSampler: Sendable {
    private let peak = Atomic<Int>(residentBytes())
    private let running = Atomic<Bool>(true)
    private let stopped = DispatchSemaphore(value: 0)

    init() {
        Thread.detachNewThread { [self] in
            while running.load(ordering: .relaxed) {
                let now = residentBytes()
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                usleep(1000)
            }
            stopped.signal()
        }
    }

    func stop() -> Int {
        running.store(false, ordering: .relaxed)
        stopped.wait()
        return max(peak.load(ordering: .relaxed), residentBytes())
    }
}

/// `hostile_peer.py` as a child process, and its count of bytes written per tool.
private final class HostilePeerProcess: Sendable {
    let port: Int
    private let process: Process

    init(script: String, json: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--port", "0"] + (json ? ["--json-response"] : [])
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
            process.terminate()
            throw ValidationError("the peer \(script) did not start (run from the package root or pass --peer-script)")
        }
        self.port = port
        self.process = process
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Bytes the tool has written so far, by the peer's own count (asked over a plain socket, outside the bridge).
    func written(_ tool: String) async throws -> Int {
        let body = try await Task.detached { [port] in try Self.get(port: port, path: "/stats") }.value
        let json = try JSONValue(parsing: body)
        return json["written"]?[tool]?.intValue ?? 0
    }

    /// The count once it stopped growing: the same value twice, 200 ms apart.
    func writtenOnceSettled(_ tool: String) async throws -> Int {
        var last = try await written(tool)
        while true {
            try await Task.sleep(for: .milliseconds(200))
            let now = try await written(tool)
            if now == last { return now }
            last = now
        }
    }

    /// A plain HTTP/1.0 GET on loopback; the peer closes after answering.
    private static func get(port: Int, path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ValidationError("cannot reach the peer") }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw ValidationError("bad answer from the peer") }
        return String(text[split.upperBound...])
    }
}

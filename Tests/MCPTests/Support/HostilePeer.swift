import Foundation
import JSON

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import MCP
import Transport

/// `hostile_peer.py` as a subprocess: an upstream service that sends endless lines, endless events,
/// 100 MiB answers or nothing at all, depending on the tool called.
final class HostilePeer: Sendable {
    let port: Int
    let jsonResponse: Bool
    /// Speaks https (with the test CA's localhost certificate) when set: the CA to trust.
    let caFile: String?
    var secure: Bool { caFile != nil }
    private let process: Process
    private let stdin: Pipe

    private init(port: Int, jsonResponse: Bool, caFile: String?, process: Process, stdin: Pipe) {
        self.port = port
        self.jsonResponse = jsonResponse
        self.caFile = caFile
        self.process = process
        self.stdin = stdin
    }

    static let script = PeerScripts.directory.appendingPathComponent("hostile_peer.py").path

    private var base: String { secure ? "https://localhost:\(port)" : "http://127.0.0.1:\(port)" }
    var streamableURL: String { "\(base)/mcp" }
    var legacyURL: String { "\(base)/sse" }

    /// Starts the peer and waits until it listens on a free port.
    static func start(jsonResponse: Bool, certificate: TestCertificates? = nil) async throws -> HostilePeer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", script, "--port", "0"] + (jsonResponse ? ["--json-response"] : [])
                    + (certificate.map { ["--cert", $0.localhostCert, "--key", $0.localhostKey] } ?? [])
                let out = Pipe()
                let input = Pipe()
                process.standardOutput = out
                process.standardInput = input
                process.standardError = FileHandle.standardError
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: PeerError(description: "cannot run python3 \(script): \(error)"))
                    return
                }
                var line = Data()
                while true {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    line.append(chunk)
                    if line.contains(0x0A) { break }
                }
                let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard text.hasPrefix("PORT "), let bound = Int(text.dropFirst(5)) else {
                    process.terminate()
                    continuation.resume(throwing: PeerError(description: "hostile_peer.py did not start: '\(text)'"))
                    return
                }
                continuation.resume(returning: HostilePeer(port: bound, jsonResponse: jsonResponse, caFile: certificate?.caFile,
                                                           process: process, stdin: input))
            }
        }
    }

    /// Bytes each hostile tool has written so far, over all its calls.
    func written() async throws -> [String: Int] {
        let client = HTTPStreamingClient(tls: TLSConfiguration(extraCAFile: caFile))
        defer { client.shutdown() }
        let request = URLRequest(url: URL(string: "\(base)/stats")!, timeoutInterval: 10)
        let (_, _, data) = try await client.fetch(request, limits: HTTPStreamLimits(maximumBodyBytes: 1 << 20, idleTimeout: .seconds(10)))
        let json = try JSONValue(parsing: [UInt8](data))
        var counts: [String: Int] = [:]
        for member in json["written"]?.objectMembers ?? [] {
            if let n = member.value.intValue { counts[member.key] = n }
        }
        return counts
    }

    /// What `tool` has written once its writing stopped: the same count twice, 200 ms apart.
    func writtenOnceSettled(_ tool: String) async throws -> Int {
        var last = try await written()[tool] ?? 0
        while true {
            try await Task.sleep(for: .milliseconds(200))
            let now = try await written()[tool] ?? 0
            if now == last { return now }
            last = now
        }
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

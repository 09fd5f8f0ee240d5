import Foundation
import JSON
import Synchronization
@testable import MCP

/// The Python scripts under `Tests/MCPTests/Peers/`.
enum PeerScripts {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Peers")
    static let server = directory.appendingPathComponent("mcp_peer.py").path
    static let directCall = directory.appendingPathComponent("direct_call.py").path
}

struct PeerError: Error, CustomStringConvertible {
    var description: String
}

/// Runs a process to completion on a dedicated thread and returns its exit status, stdout and stderr.
func runProcess(_ arguments: [String]) async throws -> (status: Int32, stdout: Data, stderr: Data) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            let errData = Mutex(Data())
            let errDone = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let data = err.fileHandleForReading.readDataToEndOfFile()
                errData.withLock { $0 = data }
                errDone.signal()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            errDone.wait()
            continuation.resume(returning: (process.terminationStatus, outData, errData.withLock { $0 }))
        }
    }
}

/// A reference-SDK MCP service running as a subprocess (`mcp_peer.py`).
final class MCPPeer: Sendable {
    enum Kind: String, Sendable, CustomStringConvertible {
        case streamableHTTP = "streamable-http"
        /// Streamable HTTP answering POSTs with `application/json` rather than an SSE stream.
        case streamableHTTPJSON = "streamable-http-json"
        case sse
        case garbage
        var description: String { rawValue }

        /// The `--transport` value (and flags) of the peer scripts.
        var transportArguments: [String] {
            switch self {
            case .streamableHTTPJSON: return ["--transport", "streamable-http", "--json-response"]
            default: return ["--transport", rawValue]
            }
        }
    }

    let kind: Kind
    let port: Int
    let authHeader: String
    let authValue: String
    let userId: String
    private let process: Process
    private let stdin: Pipe

    private init(kind: Kind, port: Int, authHeader: String, authValue: String, userId: String, process: Process, stdin: Pipe) {
        self.kind = kind
        self.port = port
        self.authHeader = authHeader
        self.authValue = authValue
        self.userId = userId
        self.process = process
        self.stdin = stdin
    }

    var url: String {
        switch kind {
        case .sse: return "http://127.0.0.1:\(port)/sse"
        default: return "http://127.0.0.1:\(port)/mcp"
        }
    }

    /// Starts the peer and waits until it listens (port 0: any free port).
    static func start(_ kind: Kind, port: Int = 0, authHeader: String = "Authorization", authValue: String,
                      userId: String) async throws -> MCPPeer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", PeerScripts.server] + kind.transportArguments + ["--port", String(port),
                                     "--auth-header", authHeader, "--auth-value", authValue, "--user-id", userId]
                let out = Pipe()
                let input = Pipe()
                process.standardOutput = out
                process.standardInput = input
                process.standardError = FileHandle.standardError
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: PeerError(description: "cannot run python3 \(PeerScripts.server): \(error)"))
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
                    continuation.resume(throwing: PeerError(description: "mcp_peer.py (\(kind)) did not start: '\(text)'"))
                    return
                }
                continuation.resume(returning: MCPPeer(kind: kind, port: bound, authHeader: authHeader, authValue: authValue,
                                                       userId: userId, process: process, stdin: input))
            }
        }
    }

    /// Kills the peer at once (as a crash would) and waits for it to exit.
    func kill() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [process] in
                if process.isRunning {
                    Foundation.kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
                continuation.resume()
            }
        }
    }

    /// A new peer of the same kind on the same port.
    func restart() async throws -> MCPPeer {
        try await Self.start(kind, port: port, authHeader: authHeader, authValue: authValue, userId: userId)
    }

    /// The tool's `result` (or `{"error":…}`) when called directly with the reference client logic.
    func callDirectly(tool: String, arguments: String) async throws -> JSONValue {
        let (status, out, err) = try await runProcess([
            "python3", PeerScripts.directCall, "--transport", kind == .sse ? "sse" : "streamable-http", "--url", url,
            "--header", "\(authHeader):\(authValue)", "--header", "X-User-Id:\(userId)",
            "--tool", tool, "--arguments", arguments,
        ])
        guard status == 0 else {
            throw PeerError(description: "direct_call.py failed (\(status)): \(String(decoding: err, as: UTF8.self).suffix(500))")
        }
        return try JSONValue(parsing: [UInt8](out))
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

/// A TCP port on loopback with nothing listening on it.
func closedLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw PeerError(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw PeerError(description: "bind() failed") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The same text as `big_text` in mcp_peer.py: `<offset>:` markers, exactly `size` characters.
func bigText(size: Int) -> String {
    var text = ""
    text.reserveCapacity(size + 16)
    var length = 0
    while length < size {
        let piece = "\(length):"
        text += piece
        length += piece.utf8.count
    }
    return String(text.utf8.prefix(size))!
}

import Foundation
import Glibc
import Synchronization
@testable import Transport

/// A blocking HTTP client over a plain loopback socket, for tests that need to send exactly the bytes they
/// choose (half a head, a lie in Content-Length) and see how the server closes. Use it on a dedicated thread.
final class RawHTTPClient: @unchecked Sendable {
    let fd: Int32
    private let closed = Mutex(false)

    /// The receive timeout only ends a test that would otherwise hang: generous, for a loaded machine.
    init(port: Int, receiveTimeout: Duration = .seconds(30)) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PeerFailure(message: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw PeerFailure(message: "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
        let (seconds, attoseconds) = receiveTimeout.components
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends all of `bytes`; false when the server has gone.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// The next bytes: empty at end of stream, nil on the receive timeout or an error.
    func readSome() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            return Array(buffer[..<n])
        }
    }

    /// Everything until the server closes; `closed` is false when the receive timeout came first.
    func readToEnd() -> (bytes: [UInt8], closed: Bool) {
        var all: [UInt8] = []
        while let chunk = readSome() {
            if chunk.isEmpty { return (all, true) }
            all += chunk
        }
        return (all, false)
    }

    /// Reads until `done` holds for what came so far, or the server closes, or the timeout.
    func read(until done: ([UInt8]) -> Bool) -> [UInt8] {
        var all: [UInt8] = []
        while !done(all), let chunk = readSome(), !chunk.isEmpty { all += chunk }
        return all
    }

    /// Closes the socket once: a second close could hit a descriptor another test has since opened.
    func close() {
        let first = closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
        if first { Glibc.close(fd) }
    }
}

/// A response as a test reads it off the wire.
struct ReceivedResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Parses a status line, headers and whatever follows as the body; nil without a complete head.
    init?(_ bytes: [UInt8]) {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard let end = (0...max(0, bytes.count - 4)).first(where: { bytes.count >= 4 && Array(bytes[$0..<$0 + 4]) == marker }) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        self.status = status
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = Array(bytes[(end + 4)...])
    }
}

/// Sends `request` on a new connection and reads the answer until the server closes.
func exchange(port: Int, _ request: [UInt8]) async throws -> ReceivedResponse {
    let (bytes, closed) = try await onDedicatedThread { () -> ([UInt8], Bool) in
        let client = try RawHTTPClient(port: port)
        defer { client.close() }
        client.send(request)
        return client.readToEnd()
    }
    guard closed else { throw PeerFailure(message: "the server did not close the connection") }
    guard let response = ReceivedResponse(bytes) else {
        throw PeerFailure(message: "no response head in \(bytes.count) bytes")
    }
    return response
}

func exchange(port: Int, _ request: String) async throws -> ReceivedResponse {
    try await exchange(port: port, Array(request.utf8))
}

/// Polls `condition` every few milliseconds until it holds or `limit` passes; whether it held.
func eventually(within limit: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

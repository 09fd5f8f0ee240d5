#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// A client socket for probe-server tests, byte by byte: what URLSession cannot do (trickle a request,
/// hold a connection idle, see whether the server closed it). Blocking calls with explicit waits, meant
/// for a test's own thread.
final class RawProbeClient: @unchecked Sendable {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawProbeClientError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw RawProbeClientError("connect failed: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Sends `text`; false when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Whether the server closed (or reset) the connection, looking for up to `wait` seconds.
    func isClosedByServer(wait: TimeInterval) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(wait * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Reads until the server closes, for up to `wait` seconds; nil when it did not finish in time.
    func readToEnd(wait: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(wait)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32(left * 1000) + 1) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return String(decoding: received, as: UTF8.self)
        }
    }

    /// One whole GET: status and body, or nil when no full answer came within `wait` seconds.
    static func get(port: Int, path: String, wait: TimeInterval) -> (status: Int, body: String)? {
        guard let client = try? RawProbeClient(port: port),
              client.send("GET \(path) HTTP/1.1\r\nHost: probe\r\n\r\n"),
              let response = client.readToEnd(wait: wait),
              let split = response.range(of: "\r\n\r\n")
        else { return nil }
        let statusLine = response[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        return (status, String(response[split.upperBound...]))
    }
}

struct RawProbeClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` on a thread of its own (blocking socket calls stay off the cooperative pool).
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.start()
    }
}

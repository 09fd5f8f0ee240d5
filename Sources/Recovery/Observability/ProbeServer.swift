#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging

/// A small HTTP/1.1 server for `/metrics`, `/healthz` and `/readyz`, on a thread of its own so that a
/// slow scraper never touches the pool's data path. One request a connection.
public final class ProbeServer: @unchecked Sendable {
    public typealias Route = @Sendable () async -> ProbeResponse

    public enum StartError: Error, CustomStringConvertible {
        case bind(host: String, port: Int, reason: String)

        public var description: String {
            switch self {
            case .bind(let host, let port, let reason): "metrics server cannot listen on \(host):\(port): \(reason)"
            }
        }
    }

    private let routes: [String: Route]
    private let logger: Logger
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var stopped = false
    /// The port actually bound (useful when asked for port 0).
    public private(set) var port: Int = 0

    public init(routes: [String: Route], logger: Logger) {
        self.routes = routes
        self.logger = logger
    }

    /// Binds `host:port` and starts serving on a dedicated thread.
    public func start(host: String, port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError.bind(host: host, port: port, reason: String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw StartError.bind(host: host, port: port, reason: "not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StartError.bind(host: host, port: port, reason: reason)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        lock.withLock {
            listener = fd
            self.port = Int(UInt16(bigEndian: actual.sin_port))
        }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "probe-server"
        thread.start()
    }

    /// Stops accepting; a request being answered finishes.
    public func stop() {
        let fd: Int32 = lock.withLock {
            stopped = true
            defer { listener = -1 }
            return listener
        }
        if fd >= 0 {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop(_ fd: Int32) {
        while !isStopped {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                if !isStopped { logger.warning("metrics server stopped accepting", metadata: ["error": "\(String(cString: strerror(errno)))"]) }
                return
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let response = respond(to: readHead(client))
            writeAll(client, response.serialized())
            close(client)
        }
    }

    private func readHead(_ fd: Int32) -> [UInt8] {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while head.count < 16 * 1024 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            head.append(contentsOf: chunk[0..<n])
            if head.count >= 4, head.suffix(4) == [13, 10, 13, 10] { break }
            if head.contains(10), head.count >= 2, head.suffix(2) == [10, 10] { break }
        }
        return head
    }

    private func respond(to head: [UInt8]) -> ProbeResponse {
        guard let request = ProbeRequest(head: head) else { return ProbeResponse(status: 400, text: "bad request\n") }
        guard request.method == "GET" || request.method == "HEAD" else { return ProbeResponse(status: 405, text: "GET only\n") }
        guard let route = routes[request.path] else { return ProbeResponse(status: 404, text: "not found\n") }
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await route()
            done.signal()
        }
        done.wait()
        return box.value ?? ProbeResponse(status: 503, text: "no answer\n")
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}

private final class ResponseBox: @unchecked Sendable {
    var value: ProbeResponse?
}

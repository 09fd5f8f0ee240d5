import Foundation
import Glibc
import Synchronization
import Testing

/// The fault proxy against a small echo server started by each test, so no external server is needed.
/// Blocking socket work runs on its own threads, never on the cooperative pool.
@Suite("FaultProxy")
struct FaultProxyTests {
    @Test func forwardPassesBytesBothWays() async throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let proxy = try FaultProxy(targetHost: "127.0.0.1", targetPort: echo.port)
        defer { proxy.close() }
        #expect(proxy.mode == .forward)

        try await onThread {
            let client = try BlockingClient(port: proxy.port)
            try client.send(Array("hello through the proxy".utf8))
            #expect(try client.receive(count: 23) == Array("hello through the proxy".utf8))
            #expect(proxy.connectionCount == 1)

            // Large enough to need many partial reads and writes on both hops.
            let large = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
            let sender = Thread { try? client.send(large) }
            sender.start()
            #expect(try client.receive(count: large.count) == large)

            client.close()
            #expect(waitUntil { proxy.connectionCount == 0 }, "a closed client must end its proxied connection")
        }
    }

    @Test func delayHoldsEveryChunkAndKeepsOrder() async throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let proxy = try FaultProxy(targetHost: "localhost", targetPort: echo.port)
        defer { proxy.close() }
        let delay = Duration.milliseconds(200)
        proxy.set(.delay(delay))
        #expect(proxy.mode == .delay(delay))

        try await onThread {
            let client = try BlockingClient(port: proxy.port)
            defer { client.close() }
            let clock = ContinuousClock()
            let start = clock.now
            try client.send(Array("ping".utf8))
            #expect(try client.receive(count: 4) == Array("ping".utf8))
            // The echo crosses the proxy twice, each way held for the delay.
            let elapsed = clock.now - start
            #expect(elapsed >= delay * 2, "round trip took \(elapsed)")

            // Separate chunks, then a switch back to forward while they are held: order must survive.
            for word in ["one", "two", "three"] {
                try client.send(Array(word.utf8))
                Thread.sleep(forTimeInterval: 0.02)
            }
            proxy.set(.forward)
            try client.send(Array("four".utf8))
            #expect(try client.receive(count: 15) == Array("onetwothreefour".utf8))
        }
    }

    @Test func blackholeHoldsConnectionsThenCutsThemWhenHealed() async throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let proxy = try FaultProxy(targetHost: "127.0.0.1", targetPort: echo.port)
        defer { proxy.close() }

        try await onThread {
            let before = try BlockingClient(port: proxy.port, receiveTimeout: .milliseconds(500))
            defer { before.close() }
            try before.send(Array("up".utf8))
            #expect(try before.receive(count: 2) == Array("up".utf8))

            proxy.set(.blackhole)
            #expect(proxy.mode == .blackhole)
            try before.send(Array("lost".utf8))
            let during = try BlockingClient(port: proxy.port, receiveTimeout: .milliseconds(500))
            defer { during.close() }
            try during.send(Array("also lost".utf8))
            #expect(before.receiveOutcome() == .timedOut, "nothing may cross a blackhole")
            #expect(during.receiveOutcome() == .timedOut, "a new connection is accepted but not forwarded")
            #expect(waitUntil { proxy.connectionCount == 2 }, "both connections stay open in the blackhole")

            proxy.set(.forward)
            // The held bytes must not be delivered late: a healed partition does not resume old connections.
            #expect(before.receiveOutcome().isClosed)
            #expect(during.receiveOutcome().isClosed)

            let after = try BlockingClient(port: proxy.port)
            defer { after.close() }
            try after.send(Array("back".utf8))
            #expect(try after.receive(count: 4) == Array("back".utf8))
            #expect(waitUntil { proxy.connectionCount == 1 })
        }
    }

    @Test func resetModeResetsCurrentAndNewConnections() async throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let proxy = try FaultProxy(targetHost: "127.0.0.1", targetPort: echo.port)
        defer { proxy.close() }

        try await onThread {
            let existing = try BlockingClient(port: proxy.port)
            defer { existing.close() }
            try existing.send(Array("a".utf8))
            #expect(try existing.receive(count: 1) == Array("a".utf8))

            proxy.set(.reset)
            #expect(proxy.mode == .reset)
            #expect(existing.receiveOutcome().isClosed)

            let fresh = try BlockingClient(port: proxy.port)
            defer { fresh.close() }
            _ = try? fresh.send(Array("b".utf8))
            #expect(fresh.receiveOutcome().isClosed, "a new connection is accepted, then reset")
            #expect(proxy.connectionCount == 0)
        }
    }

    @Test func resetAllResetsConnectionsButKeepsForwarding() async throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let proxy = try FaultProxy(targetHost: "127.0.0.1", targetPort: echo.port)
        defer { proxy.close() }

        try await onThread {
            let first = try BlockingClient(port: proxy.port)
            defer { first.close() }
            try first.send(Array("x".utf8))
            #expect(try first.receive(count: 1) == Array("x".utf8))

            proxy.resetAll()
            #expect(first.receiveOutcome() == .reset, "resetAll closes with RST, not FIN")
            #expect(proxy.mode == .forward)

            let second = try BlockingClient(port: proxy.port)
            defer { second.close() }
            try second.send(Array("y".utf8))
            #expect(try second.receive(count: 1) == Array("y".utf8))
        }
    }

    @Test func targetDownResetsTheClient() async throws {
        // A port that was just free: nothing listens there.
        let probe = try EchoServer()
        let deadPort = probe.port
        probe.stop()
        let proxy = try FaultProxy(targetHost: "127.0.0.1", targetPort: deadPort)
        defer { proxy.close() }

        try await onThread {
            let client = try BlockingClient(port: proxy.port)
            defer { client.close() }
            #expect(client.receiveOutcome().isClosed)
            #expect(waitUntil { proxy.connectionCount == 0 })
        }
    }

    @Test func closeStopsListenerAndConnections() async throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let proxy = try FaultProxy(targetHost: "127.0.0.1", targetPort: echo.port)
        let port = proxy.port

        try await onThread {
            let client = try BlockingClient(port: port)
            defer { client.close() }
            try client.send(Array("z".utf8))
            #expect(try client.receive(count: 1) == Array("z".utf8))

            proxy.close()
            #expect(client.receiveOutcome().isClosed)
            #expect(proxy.connectionCount == 0)
            #expect(throws: ClientError.self, "the listener must be gone") { try BlockingClient(port: port) }
            proxy.close()  // A second close is harmless.
        }
    }

    @Test(arguments: ["10.0.0.1", "0.0.0.0", "192.168.1.10", "example.com", "127.0.0.2", ""])
    func nonLoopbackTargetIsRefused(host: String) {
        #expect(throws: FaultProxyError.nonLoopbackTarget(host)) {
            try FaultProxy(targetHost: host, targetPort: 6379)
        }
    }

    @Test func loopbackTargetsAndPortsAreChecked() throws {
        for host in ["127.0.0.1", "localhost", "::1"] {
            let proxy = try FaultProxy(targetHost: host, targetPort: 6379)
            #expect(proxy.port > 0)
            proxy.close()
        }
        #expect(throws: FaultProxyError.invalidPort(0)) { try FaultProxy(targetHost: "127.0.0.1", targetPort: 0) }
        #expect(throws: FaultProxyError.invalidPort(70_000)) { try FaultProxy(targetHost: "::1", targetPort: 70_000) }
    }
}

// MARK: - Helpers

/// Runs blocking socket code on a fresh thread so it never holds a cooperative-pool thread.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Polls a condition for up to `timeout`; only for use off the cooperative pool.
private func waitUntil(timeout: Duration = .seconds(3), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

private struct ClientError: Error, CustomStringConvertible {
    let description: String
    init(_ call: String, _ code: Int32 = errno) {
        description = "\(call): \(String(cString: strerror(code))) (errno \(code))"
    }
}

private func loopbackAddress(port: Int) -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return addr
}

private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ClientError("send")
        }
        sent += n
    }
}

/// A blocking TCP client with a receive timeout, so a test waits a bounded time for anything.
private final class BlockingClient: Sendable {
    enum Outcome: Equatable {
        case data([UInt8])
        case timedOut
        case eof
        case reset
        case failed(Int32)

        var isClosed: Bool { self == .eof || self == .reset }
    }

    let fd: Int32
    private let closed = Atomic(false)

    init(port: Int, receiveTimeout: Duration = .seconds(5)) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError("socket") }
        let (seconds, attoseconds) = receiveTimeout.components
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = ClientError("connect")
            Glibc.close(fd)
            throw error
        }
    }

    deinit { close() }

    func send(_ bytes: [UInt8]) throws { try sendAll(fd, bytes) }

    /// Exactly `count` bytes, or an error on timeout or close.
    func receive(count: Int) throws -> [UInt8] {
        var received: [UInt8] = []
        while received.count < count {
            switch receiveOutcome(max: count - received.count) {
            case .data(let bytes): received += bytes
            case let other: throw ClientError("receive after \(received.count) of \(count) bytes: \(other)", 0)
            }
        }
        return received
    }

    func receiveOutcome(max: Int = 65_536) -> Outcome {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
            if n > 0 { return .data(Array(buffer[0..<n])) }
            if n == 0 { return .eof }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .timedOut
            case ECONNRESET: return .reset
            case let code: return .failed(code)
            }
        }
    }

    func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { Glibc.close(fd) }
    }
}

/// Echoes every byte back; one thread accepts, one thread per connection echoes.
private final class EchoServer: Sendable {
    let port: Int
    private let listener: Int32
    private let connections = Mutex<Set<Int32>>([])
    private let stopped = Atomic(false)

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw ClientError("socket") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard ok else {
            let error = ClientError("echo server listen")
            Glibc.close(listener)
            throw error
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    private func acceptLoop() {
        while true {
            let fd = FaultProxySocket.accept(listener, nonBlocking: false)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break  // shutdown() by stop()
            }
            let admitted = connections.withLock { set in
                guard !stopped.load(ordering: .acquiring) else { return false }
                set.insert(fd)
                return true
            }
            guard admitted else {
                Glibc.close(fd)
                continue
            }
            Thread { [self] in echo(fd) }.start()
        }
        Glibc.close(listener)
    }

    private func echo(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0, (try? sendAll(fd, Array(buffer[0..<n]))) != nil else { break }
        }
        // Closed under the lock so stop() never shuts down a descriptor number that was reused.
        connections.withLock { set in
            set.remove(fd)
            Glibc.close(fd)
        }
    }

    func stop() {
        connections.withLock { set in
            guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
            // shutdown() wakes the threads blocked in accept and recv; each closes its own descriptor.
            Glibc.shutdown(listener, Int32(SHUT_RDWR))
            for fd in set { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
}

import Dispatch
import Foundation
import Glibc
import Synchronization

/// A TCP proxy between a process under test and a loopback server that injects network faults on demand
/// (delay, partition, reset), so recovery paths can be exercised without stopping or altering the server.
final class FaultProxy: Sendable {
    enum Mode: Sendable, Equatable, CustomStringConvertible {
        /// Bytes pass both ways as they arrive.
        case forward
        /// Each chunk is held this long before it is passed on; order is kept.
        case delay(Duration)
        /// A partition: connections stay open, nothing moves, and they are closed when the partition heals.
        case blackhole
        /// Every connection, current and new, is closed with a TCP RST.
        case reset

        var description: String {
            switch self {
            case .forward: "forward"
            case .delay(let duration): "delay(\(duration))"
            case .blackhole: "blackhole"
            case .reset: "reset"
            }
        }
    }

    /// Most bytes held per direction of one connection (so at most 1 MiB per connection); beyond it the proxy
    /// stops reading and TCP flow control pushes back on the sender instead of memory growing.
    static let maxBufferedPerDirection = 512 * 1024

    let targetHost: String
    let targetPort: Int
    /// The port the proxy listens on, on 127.0.0.1.
    let port: Int
    private let core: FaultProxyCore

    /// Only loopback targets are allowed: the proxy exists to sit in front of test servers on this machine.
    init(targetHost: String, targetPort: Int) throws {
        let target = try FaultProxyTarget(host: targetHost, port: targetPort)
        let listener = try FaultProxySocket.listenOnLoopback()
        let wake: (read: Int32, write: Int32)
        do {
            wake = try FaultProxySocket.wakePair()
        } catch {
            Glibc.close(listener.fd)
            throw error
        }
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.port = listener.port
        self.core = FaultProxyCore(target: target, listener: listener.fd, wakeRead: wake.read, wakeWrite: wake.write)
        core.start()
    }

    deinit {
        core.stop()
    }

    var mode: Mode {
        core.state.withLock { $0.mode }
    }

    /// Switches the fault mode; forwarding decisions follow at once, closes and resets within milliseconds.
    func set(_ mode: Mode) {
        core.set(mode)
    }

    /// Closes every current connection with RST, leaving the mode as it is.
    func resetAll() {
        core.resetAll()
    }

    /// Connections currently proxied (including ones held in a partition).
    var connectionCount: Int {
        core.state.withLock { $0.live.count }
    }

    /// Connections accepted since the proxy started, closed ones included.
    var acceptedCount: Int {
        core.state.withLock { $0.nextID }
    }

    /// Stops the listener and closes every connection; waits (briefly) for the proxy thread to finish.
    func close() {
        core.stop()
    }
}

enum FaultProxyError: Error, Equatable, CustomStringConvertible {
    case nonLoopbackTarget(String)
    case invalidPort(Int)
    case system(call: String, errno: Int32)

    var description: String {
        switch self {
        case .nonLoopbackTarget(let host):
            "FaultProxy refuses target host \"\(host)\": only 127.0.0.1, localhost and ::1 are allowed"
        case .invalidPort(let port):
            "FaultProxy target port \(port) is not in 1...65535"
        case .system(let call, let code):
            "FaultProxy: \(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

// MARK: - Internals

/// A loopback address to connect to, kept as plain values so it is trivially Sendable.
private struct FaultProxyTarget: Sendable {
    let family: Int32
    let address: [UInt8]
    let port: UInt16

    init(host: String, port: Int) throws {
        switch host {
        case "127.0.0.1", "localhost":
            family = AF_INET
            address = [127, 0, 0, 1]
        case "::1":
            family = AF_INET6
            address = [UInt8](repeating: 0, count: 15) + [1]
        default:
            throw FaultProxyError.nonLoopbackTarget(host)
        }
        guard (1...65535).contains(port) else { throw FaultProxyError.invalidPort(port) }
        self.port = UInt16(port)
    }

    /// Starts a non-blocking connect; returns the socket and whether the connect is still in progress.
    func connect() -> (fd: Int32, inProgress: Bool)? {
        let fd = socket(family, FaultProxySocket.streamFlags, 0)
        guard fd >= 0 else { return nil }
        FaultProxySocket.setNoDelay(fd)
        let result: Int32
        if family == AF_INET {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &addr.sin_addr) { $0.copyBytes(from: address) }
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &addr.sin6_addr) { $0.copyBytes(from: address) }
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        if result == 0 { return (fd, false) }
        if errno == EINPROGRESS { return (fd, true) }
        Glibc.close(fd)
        return nil
    }
}

/// Socket helpers for the proxy and its tests.
enum FaultProxySocket {
    static let streamFlags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)

    private typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

    /// Glibc's module map does not expose accept4 (a GNU extension), so it is looked up once at run time.
    private static let accept4: Accept4? = dlsym(nil, "accept4").map { unsafeBitCast($0, to: Accept4.self) }

    /// Accepts with close-on-exec set atomically: the tests spawn server scripts, and a proxied socket
    /// leaked into a daemon would keep a connection alive after the proxy closed it.
    static func accept(_ listener: Int32, nonBlocking: Bool) -> Int32 {
        let flags = Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        if let accept4 {
            return accept4(listener, nil, nil, flags)
        }
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { return fd }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return fd
    }

    static func listenOnLoopback() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, streamFlags, 0)
        guard fd >= 0 else { throw FaultProxyError.system(call: "socket", errno: errno) }
        func fail(_ call: String) -> FaultProxyError {
            let code = errno
            Glibc.close(fd)
            return .system(call: call, errno: code)
        }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw fail("setsockopt(SO_REUSEADDR)")
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw fail("bind") }
        guard listen(fd, 128) == 0 else { throw fail("listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw fail("getsockname") }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// A socket pair used only to wake the poll loop when the mode changes or the proxy closes.
    static func wakePair() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, streamFlags, 0, &fds) == 0 else {
            throw FaultProxyError.system(call: "socketpair", errno: errno)
        }
        return (fds[0], fds[1])
    }

    static func setNoDelay(_ fd: Int32) {
        // Small chunks must move at once: the tests measure delays, and Nagle would add its own.
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Closes with RST instead of FIN: linger on, zero timeout, makes close() abort the connection.
    static func closeWithReset(_ fd: Int32) {
        guard fd >= 0 else { return }
        var hard = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
    }
}

/// The state shared between callers and the proxy thread. File descriptors belong to the proxy thread
/// alone; callers only change flags here and wake it, so no descriptor is closed under a running poll.
private struct FaultProxyShared {
    enum Fate: Equatable {
        case forwarding
        /// Caught in a blackhole: held open, never forwarded again.
        case partitioned
    }

    var mode: FaultProxy.Mode = .forward
    var live: [Int: Fate] = [:]
    /// Connections to close with RST on the proxy thread's next turn.
    var doomed: [Int] = []
    var nextID = 0
    var stopping = false
}

private final class FaultProxyCore: Sendable {
    let state = Mutex(FaultProxyShared())
    let target: FaultProxyTarget
    let listener: Int32
    let wakeRead: Int32
    let wakeWrite: Int32
    private let finished = DispatchGroup()

    init(target: FaultProxyTarget, listener: Int32, wakeRead: Int32, wakeWrite: Int32) {
        self.target = target
        self.listener = listener
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
    }

    func start() {
        finished.enter()
        // A dedicated thread, not a task: the loop blocks in poll() and must not hold a cooperative-pool thread.
        let thread = Thread { [self] in
            var loop = FaultProxyLoop(core: self)
            loop.run()
            finished.leave()
        }
        thread.name = "FaultProxy"
        thread.start()
    }

    /// Called with the lock held, so the proxy thread cannot have closed `wakeWrite` yet.
    private func wake(_ shared: inout FaultProxyShared) {
        guard !shared.stopping else { return }
        var byte: UInt8 = 1
        _ = send(wakeWrite, &byte, 1, Int32(MSG_NOSIGNAL))
    }

    func set(_ mode: FaultProxy.Mode) {
        state.withLock { shared in
            let old = shared.mode
            shared.mode = mode
            if mode == .reset {
                shared.doomed += shared.live.keys
                shared.live.removeAll()
            } else if mode == .blackhole, old != .blackhole {
                for id in shared.live.keys { shared.live[id] = .partitioned }
            } else if old == .blackhole, mode != .blackhole {
                // A partition loses what was in flight: healed connections do not resume, they are cut.
                for (id, fate) in shared.live where fate == .partitioned {
                    shared.doomed.append(id)
                    shared.live[id] = nil
                }
            }
            wake(&shared)
        }
    }

    func resetAll() {
        state.withLock { shared in
            shared.doomed += shared.live.keys
            shared.live.removeAll()
            wake(&shared)
        }
    }

    func stop() {
        state.withLock { shared in
            wake(&shared)
            shared.stopping = true
        }
        // Bounded: the loop only has to close descriptors once woken.
        _ = finished.wait(timeout: .now() + .seconds(5))
    }
}

/// Bytes read from one side and not yet written to the other, as chunks with the time each may leave.
private struct FaultProxyPipe {
    struct Chunk {
        var bytes: [UInt8]
        let due: ContinuousClock.Instant
    }

    var chunks: [Chunk] = []
    var head = 0
    var offset = 0
    var buffered = 0
    var sawEOF = false
    var shutDown = false

    var isEmpty: Bool { head == chunks.count }
    var room: Int { FaultProxy.maxBufferedPerDirection - buffered }
    var wantsRead: Bool { !sawEOF && room > 0 }
    var nextDue: ContinuousClock.Instant? { isEmpty ? nil : chunks[head].due }

    mutating func append(_ bytes: [UInt8], due: ContinuousClock.Instant) {
        chunks.append(Chunk(bytes: bytes, due: due))
        buffered += bytes.count
    }

    /// Writes every chunk that is due, in order; false when the peer is gone.
    mutating func flush(to fd: Int32, now: ContinuousClock.Instant) -> Bool {
        defer { compact() }
        while head < chunks.count, chunks[head].due <= now {
            let start = offset
            let written = chunks[head].bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + start, raw.count - start, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
            }
            offset += written
            buffered -= written
            if offset == chunks[head].bytes.count {
                head += 1
                offset = 0
            }
        }
        return true
    }

    private mutating func compact() {
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 {
            chunks.removeFirst(head)
            head = 0
        }
    }
}

private final class FaultProxyConnection {
    let id: Int
    let client: Int32
    /// -1 when accepted during a blackhole: such a connection never reaches the target.
    let upstream: Int32
    var connecting: Bool
    var toUpstream = FaultProxyPipe()
    var toClient = FaultProxyPipe()

    init(id: Int, client: Int32, upstream: Int32, connecting: Bool) {
        self.id = id
        self.client = client
        self.upstream = upstream
        self.connecting = connecting
    }

    func abort() {
        FaultProxySocket.closeWithReset(client)
        FaultProxySocket.closeWithReset(upstream)
    }

    func closeGracefully() {
        Glibc.close(client)
        if upstream >= 0 { Glibc.close(upstream) }
    }
}

/// The poll loop; owns every descriptor and runs on the proxy's own thread.
private struct FaultProxyLoop {
    let core: FaultProxyCore
    var connections: [Int: FaultProxyConnection] = [:]
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(core: FaultProxyCore) {
        self.core = core
    }

    mutating func run() {
        while true {
            let (stopping, doomed, partitioned) = core.state.withLock { shared in
                let doomed = shared.doomed
                shared.doomed.removeAll()
                let partitioned = Set(shared.live.compactMap { $0.value == .partitioned ? $0.key : nil })
                return (shared.stopping, doomed, partitioned)
            }
            if stopping { break }
            for id in doomed {
                connections.removeValue(forKey: id)?.abort()
            }

            let now = ContinuousClock.now
            var deadline: ContinuousClock.Instant?
            var fds = [
                pollfd(fd: core.wakeRead, events: Int16(POLLIN), revents: 0),
                pollfd(fd: core.listener, events: Int16(POLLIN), revents: 0),
            ]
            let order = Array(connections.values)
            for connection in order {
                var clientEvents: Int16 = 0
                var upstreamEvents: Int16 = 0
                // A partitioned connection is not polled at all: it neither reads nor writes until it is cut.
                if !partitioned.contains(connection.id) {
                    if connection.connecting {
                        upstreamEvents = Int16(POLLOUT)
                    } else {
                        if connection.toUpstream.wantsRead { clientEvents |= Int16(POLLIN) }
                        if connection.toClient.wantsRead { upstreamEvents |= Int16(POLLIN) }
                        if let due = connection.toUpstream.nextDue {
                            if due <= now { upstreamEvents |= Int16(POLLOUT) } else { deadline = min(deadline ?? due, due) }
                        }
                        if let due = connection.toClient.nextDue {
                            if due <= now { clientEvents |= Int16(POLLOUT) } else { deadline = min(deadline ?? due, due) }
                        }
                    }
                }
                // A negative descriptor is ignored by poll, so idle sides cannot spin the loop on HUP.
                fds.append(pollfd(fd: clientEvents == 0 ? -1 : connection.client, events: clientEvents, revents: 0))
                fds.append(pollfd(fd: upstreamEvents == 0 ? -1 : connection.upstream, events: upstreamEvents, revents: 0))
            }

            let timeout = deadline.map { Self.milliseconds(until: $0, from: now) } ?? -1
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }

            if fds[0].revents != 0 { drainWake() }
            if fds[1].revents & Int16(POLLIN) != 0 { acceptAll() }
            for (index, connection) in order.enumerated() {
                guard connections[connection.id] === connection else { continue }
                service(connection, clientEvents: fds[2 + 2 * index].revents, upstreamEvents: fds[3 + 2 * index].revents)
            }
        }
        shutDown()
    }

    private func drainWake() {
        var sink = [UInt8](repeating: 0, count: 64)
        while recv(core.wakeRead, &sink, sink.count, 0) > 0 {}
    }

    private mutating func acceptAll() {
        // Bounded per turn so a flood of connects cannot starve the existing connections.
        for _ in 0..<64 {
            let fd = FaultProxySocket.accept(core.listener, nonBlocking: true)
            guard fd >= 0 else { return }
            FaultProxySocket.setNoDelay(fd)
            let admitted: (id: Int, fate: FaultProxyShared.Fate)? = core.state.withLock { shared in
                if shared.stopping || shared.mode == .reset { return nil }
                let id = shared.nextID
                shared.nextID += 1
                let fate: FaultProxyShared.Fate = shared.mode == .blackhole ? .partitioned : .forwarding
                shared.live[id] = fate
                return (id, fate)
            }
            guard let admitted else {
                FaultProxySocket.closeWithReset(fd)
                continue
            }
            if admitted.fate == .partitioned {
                connections[admitted.id] = FaultProxyConnection(id: admitted.id, client: fd, upstream: -1, connecting: false)
                continue
            }
            guard let upstream = core.target.connect() else {
                // The target is down: the client sees a reset, as it would from the server's host.
                FaultProxySocket.closeWithReset(fd)
                unregister(admitted.id)
                continue
            }
            connections[admitted.id] = FaultProxyConnection(
                id: admitted.id, client: fd, upstream: upstream.fd, connecting: upstream.inProgress)
        }
    }

    private mutating func service(_ connection: FaultProxyConnection, clientEvents: Int16, upstreamEvents: Int16) {
        if connection.connecting {
            guard upstreamEvents != 0 else { return }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(connection.upstream, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0 {
                drop(connection, reset: true)
                return
            }
            connection.connecting = false
        }

        let readable = Int16(POLLIN | POLLHUP | POLLERR)
        if clientEvents & readable != 0, connection.toUpstream.wantsRead {
            guard receive(from: connection.client, into: &connection.toUpstream, id: connection.id) else {
                drop(connection, reset: true)
                return
            }
        }
        if upstreamEvents & readable != 0, connection.toClient.wantsRead {
            guard receive(from: connection.upstream, into: &connection.toClient, id: connection.id) else {
                drop(connection, reset: true)
                return
            }
        }

        // Re-checked after reading: a blackhole set meanwhile must stop writes too.
        let forwarding = core.state.withLock { $0.live[connection.id] == .forwarding }
        guard forwarding else { return }
        let now = ContinuousClock.now
        guard connection.toUpstream.flush(to: connection.upstream, now: now),
              connection.toClient.flush(to: connection.client, now: now)
        else {
            drop(connection, reset: true)
            return
        }

        // A half-close is passed on only after everything sent before it has been delivered.
        if connection.toUpstream.sawEOF, connection.toUpstream.isEmpty, !connection.toUpstream.shutDown {
            Glibc.shutdown(connection.upstream, Int32(SHUT_WR))
            connection.toUpstream.shutDown = true
        }
        if connection.toClient.sawEOF, connection.toClient.isEmpty, !connection.toClient.shutDown {
            Glibc.shutdown(connection.client, Int32(SHUT_WR))
            connection.toClient.shutDown = true
        }
        if connection.toUpstream.shutDown, connection.toClient.shutDown {
            drop(connection, reset: false)
        }
    }

    /// Reads one chunk; false when the side failed (a reset is then passed on to the other side).
    private mutating func receive(from fd: Int32, into pipe: inout FaultProxyPipe, id: Int) -> Bool {
        let limit = min(scratch.count, pipe.room)
        let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, limit, 0) }
        if count < 0 {
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
        }
        if count == 0 {
            pipe.sawEOF = true
            return true
        }
        // The mode is read after the bytes arrived, so bytes sent after set(_:) returns obey the new mode.
        let hold: Duration? = core.state.withLock { shared in
            guard shared.live[id] == .forwarding else { return nil }
            if case .delay(let duration) = shared.mode { return max(duration, .zero) }
            return .zero
        }
        guard let hold else { return true }  // Partitioned or being reset: the bytes are lost.
        pipe.append(Array(scratch[0..<count]), due: ContinuousClock.now + hold)
        return true
    }

    private mutating func drop(_ connection: FaultProxyConnection, reset: Bool) {
        connections[connection.id] = nil
        if reset { connection.abort() } else { connection.closeGracefully() }
        unregister(connection.id)
    }

    private func unregister(_ id: Int) {
        core.state.withLock { _ = $0.live.removeValue(forKey: id) }
    }

    private mutating func shutDown() {
        for connection in connections.values { connection.closeGracefully() }
        connections.removeAll()
        Glibc.close(core.listener)
        core.state.withLock { shared in
            // Under the lock: wake() checks `stopping` under the same lock before it writes here.
            shared.stopping = true
            shared.live.removeAll()
            shared.doomed.removeAll()
            Glibc.close(core.wakeWrite)
        }
        Glibc.close(core.wakeRead)
    }

    private static func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
        let (seconds, attoseconds) = (deadline - now).components
        guard seconds >= 0 else { return 0 }
        // Rounded up: waking just before a chunk is due would only spin the loop.
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(min(millis, Int64(Int32.max)))
    }
}

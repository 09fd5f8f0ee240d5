#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import RecoveryCore
import Synchronization

/// A small HTTP/1.1 server for `/metrics`, `/healthz` and `/readyz`, on threads of its own so that a
/// slow scraper never touches the pool's data path. One request a connection.
///
/// Every connection gets a thread, up to `Limits.maxConnections` at once; past that the connection that
/// has waited longest for its request head is dropped for the new one (see `ProbeConnectionSlots`), so idle
/// or trickling clients cannot lock probers out. The head must arrive within one deadline for the whole
/// head, the route must answer within its own, and concurrent requests for a path share one evaluation
/// (`ProbeRouteFlights`): a slow `/readyz` never holds up `/healthz`.
public final class ProbeServer: @unchecked Sendable {
    public typealias Route = @Sendable () async -> ProbeResponse

    /// What one client can make the server hold, and for how long.
    public struct Limits: Sendable, Equatable {
        /// Connections served at once.
        public var maxConnections: Int
        /// From accept to the end of the request head, however the bytes trickle in.
        public var headTimeout: Duration
        /// How long a request waits for its route's answer before it gets a 503.
        public var routeTimeout: Duration
        /// How long writing the response may take.
        public var writeTimeout: Duration
        /// A longer head is refused (431).
        public var maxHeadBytes: Int

        public init(
            maxConnections: Int = 64, headTimeout: Duration = .seconds(5), routeTimeout: Duration = .seconds(5),
            writeTimeout: Duration = .seconds(5), maxHeadBytes: Int = 16 * 1024
        ) {
            self.maxConnections = maxConnections
            self.headTimeout = headTimeout
            self.routeTimeout = routeTimeout
            self.writeTimeout = writeTimeout
            self.maxHeadBytes = maxHeadBytes
        }
    }

    public enum StartError: Error, CustomStringConvertible {
        case bind(host: String, port: Int, reason: String)
        /// Every port tried was taken.
        case allTaken(host: String, from: Int, to: Int)

        public var description: String {
            switch self {
            case .bind(let host, let port, let reason): "metrics server cannot listen on \(host):\(port): \(reason)"
            case .allTaken(let host, let from, let to): "metrics server cannot listen on \(host): ports \(from) to \(to) are all taken"
            }
        }
    }

    /// A connection thread needs little stack: it parses a head and waits for a route's answer.
    static let connectionThreadStackBytes = 256 * 1024

    private let routes: [String: Route]
    private let logger: Logger
    public let limits: Limits
    private let flights = ProbeRouteFlights()
    private let slots: Mutex<ProbeConnectionSlots>
    /// The failure detail last logged per path, so a probe failing the same way every few seconds logs once.
    private let loggedDetails = Mutex<[String: String]>([:])
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var stopped = false
    /// The port actually bound (useful when asked for port 0).
    public private(set) var port: Int = 0

    public init(routes: [String: Route], logger: Logger, limits: Limits = Limits()) {
        self.routes = routes
        self.logger = logger
        self.limits = limits
        self.slots = Mutex(ProbeConnectionSlots(capacity: limits.maxConnections))
    }

    /// Connections being served now (including any on their way out after giving way).
    public var openConnections: Int { slots.withLock { $0.registered } }

    /// How many ports from the configured one `startOnFirstFreePort` tries.
    public static let portsTried = 64

    /// Binds the first free port of `port`, `port + 1`, … (so a scheduler and several workers on one host
    /// each get one, in a range a scrape config can list) and starts serving. Returns the bound port.
    @discardableResult
    public func startOnFirstFreePort(host: String, port: Int) throws -> Int {
        let last = min(65_535, port + Self.portsTried - 1)
        for candidate in port...last {
            do {
                try start(host: host, port: candidate)
                return self.port
            } catch StartError.bind(_, _, let reason) where reason == String(cString: strerror(EADDRINUSE)) {
                continue
            }
        }
        throw StartError.allTaken(host: host, from: port, to: last)
    }

    /// Serves on `Metrics:Host` and the first free port from `Metrics:Port` (none when it is 0), and says
    /// where. Returns the bound port.
    public func startConfigured(_ configuration: PoolConfiguration) throws -> Int? {
        guard configuration.metricsPort != 0 else { return nil }
        let host = configuration.metricsHost
        let bound = try startOnFirstFreePort(host: host, port: configuration.metricsPort)
        if bound != configuration.metricsPort {
            logger.notice("metrics port \(configuration.metricsPort) is taken (another pool process on this host?): metrics and health on \(host):\(bound)")
        } else {
            logger.info("metrics and health on \(host):\(bound)")
        }
        return bound
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
        guard bound == 0, listen(fd, 128) == 0 else {
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

    /// Stops accepting; requests being answered finish within their deadlines.
    public func stop() {
        let fd: Int32 = lock.withLock {
            stopped = true
            defer { listener = -1 }
            return listener
        }
        // Shutting down wakes the blocked accept; the accept thread closes the descriptor itself, so its
        // number cannot be reused under a running accept.
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop(_ fd: Int32) {
        defer { close(fd) }
        while !isStopped {
            let client = accept(fd, nil, nil)
            if client < 0 {
                let code = errno
                if code == EINTR || code == ECONNABORTED { continue }
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    // Out of descriptors: wait for some to be closed rather than spin.
                    logger.warning("metrics server cannot accept for now", metadata: ["error": "\(String(cString: strerror(code)))"])
                    usleep(100_000)
                    continue
                }
                if !isStopped { logger.warning("metrics server stopped accepting", metadata: ["error": "\(String(cString: strerror(code)))"]) }
                return
            }
            guard ProbeSocketIO.makeNonBlocking(client) else {
                close(client)
                continue
            }
            let admission = slots.withLock { slots -> ProbeConnectionSlots.Admission in
                let admission = slots.admit(fd: client)
                // Under the lock: the evicted connection's thread closes its descriptor only after
                // releasing its slot under this same lock, so the number still names its socket here.
                if case .admittedEvicting(_, let evicted) = admission { shutdown(evicted, Int32(SHUT_RDWR)) }
                return admission
            }
            switch admission {
            case .refused:
                close(client)
            case .admitted(let id), .admittedEvicting(let id, _):
                let thread = Thread { [self] in serve(client, id: id) }
                thread.name = "probe-connection"
                thread.stackSize = Self.connectionThreadStackBytes
                thread.start()
            }
        }
    }

    private func serve(_ fd: Int32, id: UInt64) {
        defer {
            slots.withLock { $0.release(id) }
            close(fd)
        }
        let response: ProbeResponse
        var headOnly = false
        switch ProbeSocketIO.readHead(fd, deadline: Self.deadline(after: limits.headTimeout), maxBytes: limits.maxHeadBytes) {
        case .timedOut, .closed:
            return
        case .tooLarge:
            guard slots.withLock({ $0.startResponding(id) }) else { return }
            response = ProbeResponse(status: 431, text: "request head too large\n")
        case .complete(let head):
            guard slots.withLock({ $0.startResponding(id) }) else { return }
            (response, headOnly) = respond(to: head)
        }
        _ = ProbeSocketIO.writeAll(fd, response.serialized(headOnly: headOnly), deadline: Self.deadline(after: limits.writeTimeout))
    }

    private func respond(to head: [UInt8]) -> (ProbeResponse, headOnly: Bool) {
        guard let request = ProbeRequest(head: head) else { return (ProbeResponse(status: 400, text: "bad request\n"), false) }
        guard request.method == "GET" || request.method == "HEAD" else { return (ProbeResponse(status: 405, text: "GET only\n"), false) }
        guard let route = routes[request.path] else { return (ProbeResponse(status: 404, text: "not found\n"), request.method == "HEAD") }
        let answer = flights.answer(path: request.path, route: route, within: limits.routeTimeout)
            ?? ProbeResponse(
                status: 503, text: "no answer in time\n",
                logDetail: "\(request.path) gave no answer within \(limits.routeTimeout)")
        noteDetail(answer.logDetail, path: request.path)
        return (answer, request.method == "HEAD")
    }

    /// Logs why a path fails when that changes (and once when it recovers), redacted.
    private func noteDetail(_ detail: String?, path: String) {
        let changed = loggedDetails.withLock { logged -> Bool in
            guard logged[path] != detail else { return false }
            logged[path] = detail
            return true
        }
        guard changed else { return }
        if let detail {
            logger.warning("probe \(path) fails", metadata: ["detail": "\(LogRedaction.redact(detail))"])
        } else {
            logger.notice("probe \(path) succeeds again")
        }
    }

    private static func deadline(after duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
        return DispatchTime.now().uptimeNanoseconds + nanoseconds
    }
}

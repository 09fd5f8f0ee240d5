#if canImport(Glibc)
import ClientSupport
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import RecoveryCore
import Synchronization
import Transport
import WebSocket

/// `/metrics`, `/healthz` and `/readyz` on `Transport`'s HTTP server, on an event loop of its own so that a
/// slow scraper never touches the pool's data path. One request a connection.
///
/// Up to `Limits.maxConnections` connections at once; past that the connection that has waited longest for
/// its request head gives way to the new one (`HTTPConnectionSlots`), so idle or trickling clients cannot
/// lock probers out. The head must arrive within one deadline for the whole head, the route must answer
/// within its own, and concurrent requests for a path share one evaluation (`ProbeRouteFlights`): a slow
/// `/readyz` never holds up `/healthz`.
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

        /// The HTTP server's limits: a probe takes no body, and the server's own answer deadline comes
        /// after the route's, so a late route gets the probe's 503 with its log detail.
        var server: HTTPServerLimits {
            HTTPServerLimits(
                maxConnections: maxConnections, maxHeadBytes: maxHeadBytes, maxBodyBytes: 1024, requestTimeout: headTimeout,
                responseTimeout: routeTimeout + .seconds(1), writeTimeout: writeTimeout)
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

    private let routes: [String: Route]
    private let logger: Logger
    public let limits: Limits
    private let flights = ProbeRouteFlights()
    /// The failure detail last logged per path, so a probe failing the same way every few seconds logs once.
    private let loggedDetails = Mutex<[String: String]>([:])
    private let lock = NSLock()
    private var group: EventLoopGroup?
    private var server: HTTPServer?
    /// The port actually bound (useful when asked for port 0).
    public private(set) var port: Int = 0

    public init(routes: [String: Route], logger: Logger, limits: Limits = Limits()) {
        self.routes = routes
        self.logger = logger
        self.limits = limits
    }

    /// Connections being served now.
    public var openConnections: Int { lock.withLock { server?.openConnections ?? 0 } }

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

    /// Binds `host:port` (an IPv4 address) and starts serving on an event loop of its own.
    public func start(host: String, port: Int) throws {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { throw StartError.bind(host: host, port: port, reason: "not an IPv4 address") }
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(threads: 1)
        } catch {
            throw StartError.bind(host: host, port: port, reason: "\(error)")
        }
        let server: HTTPServer
        do {
            server = try HTTPServer(host: host, port: port, group: group, limits: limits.server) { [self] request in
                .response(await respond(to: request))
            }
        } catch {
            group.shutdown()
            if case .system(_, let code) = error { throw StartError.bind(host: host, port: port, reason: String(cString: strerror(code))) }
            throw StartError.bind(host: host, port: port, reason: "\(error)")
        }
        lock.withLock {
            self.group = group
            self.server = server
            self.port = server.port
        }
    }

    /// Stops accepting and closes the connections.
    public func stop() {
        let (group, server) = lock.withLock { () -> (EventLoopGroup?, HTTPServer?) in
            defer {
                self.group = nil
                self.server = nil
            }
            return (self.group, self.server)
        }
        server?.close()
        group?.shutdown()
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        let path = request.head.path
        guard request.head.method == "GET" || request.head.method == "HEAD" else { return Self.http(ProbeResponse(status: 405, text: "GET only\n")) }
        guard let route = routes[path] else { return Self.http(ProbeResponse(status: 404, text: "not found\n")) }
        let answer = await flights.answer(path: path, route: route, within: limits.routeTimeout)
            ?? ProbeResponse(status: 503, text: "no answer in time\n", logDetail: "\(path) gave no answer within \(limits.routeTimeout)")
        noteDetail(answer.logDetail, path: path)
        return Self.http(answer)
    }

    static func http(_ response: ProbeResponse) -> HTTPResponse {
        HTTPResponse(status: response.status, headers: HTTPHeaders([("Content-Type", response.contentType)]), body: response.body)
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
            logger.warning("probe \(path) fails", metadata: ["detail": "\(Redaction.text(detail))"])
        } else {
            logger.notice("probe \(path) succeeds again")
        }
    }
}

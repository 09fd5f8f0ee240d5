import ClientSupport
import Foundation
import Logging
import Synchronization
import Transport

/// Forwards `tools/call` to upstream MCP services over Streamable HTTP or HTTP+SSE, keeping one
/// upstream session per service (and owner), with a deadline on every call and no retries.
/// Every answer is bounded (bytes, event-stream lines and events, idle time), and so is the number of
/// upstream sessions: sessions hold their services (`holdServices`), a service no session holds is
/// closed, and past `maximumConnections` the least recently used idle one is.
public final class UpstreamBridge: ToolCallBridge {
    /// Bridge settings.
    public struct Options: Sendable {
        /// The deadline of one call, upstream `initialize` included.
        public var callTimeout: Duration
        /// `clientInfo` sent to upstream services.
        public var clientName: String
        public var clientVersion: String
        /// Bytes of one answer: a JSON body, a POST's event stream, or what an HTTP+SSE stream sends
        /// between two answers. Larger: the call fails with `response-too-large`.
        public var maximumResponseBytes: Int
        /// One event-stream line, and one event's data; larger fails the stream.
        public var maximumEventStreamLineBytes: Int
        public var maximumEventStreamEventBytes: Int
        /// No byte from the service for this long (once it answered the request) ends the answer or stream.
        public var idleTimeout: Duration
        /// Upstream sessions (one per service) this bridge keeps at most.
        public var maximumConnections: Int
        /// Idle HTTP connections kept for reuse per upstream host (busy ones are not counted).
        public var maximumIdleConnectionsPerHost: Int
        /// What upstream https services' certificates are checked against.
        public var tls: TLSConfiguration

        public init(callTimeout: Duration = .seconds(30), clientName: String = "xiaozhi-recovery-pool",
                    clientVersion: String = "1.0.0", maximumResponseBytes: Int = 4 << 20,
                    maximumEventStreamLineBytes: Int = 4 << 20, maximumEventStreamEventBytes: Int = 4 << 20,
                    idleTimeout: Duration = .seconds(60), maximumConnections: Int = 1024,
                    maximumIdleConnectionsPerHost: Int = 8, tls: TLSConfiguration = .default) {
            self.callTimeout = callTimeout
            self.clientName = clientName
            self.clientVersion = clientVersion
            self.maximumResponseBytes = maximumResponseBytes
            self.maximumEventStreamLineBytes = maximumEventStreamLineBytes
            self.maximumEventStreamEventBytes = maximumEventStreamEventBytes
            self.idleTimeout = idleTimeout
            self.maximumConnections = maximumConnections
            self.maximumIdleConnectionsPerHost = maximumIdleConnectionsPerHost
            self.tls = tls
        }
    }

    private let options: Options
    private let client: HTTPStreamingClient
    private let table: Mutex<UpstreamConnectionTable<any UpstreamConnection>>
    private let logger: Logger

    public init(options: Options = Options(), logger: Logger = Logger(label: "mcp.bridge")) {
        self.options = options
        self.client = HTTPStreamingClient(maximumIdleConnectionsPerHost: options.maximumIdleConnectionsPerHost, tls: options.tls)
        self.table = Mutex(UpstreamConnectionTable(capacity: options.maximumConnections))
        self.logger = logger
    }

    deinit {
        client.shutdown()
    }

    public func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome {
        let service = request.service
        if case .unsupported(let name) = service.transport {
            return .failed(BridgeFailure(
                kind: .unsupportedTransport, serviceName: service.name,
                message: "Upstream MCP service '\(service.name)' uses the '\(name)' protocol, which the pool cannot run; only streamable-http, http and sse are bridged"))
        }
        guard let url = URL(string: service.endpoint), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else {
            return .failed(UpstreamHTTP.failure(.malformedResponse, service, "has an Endpoint that is not an http(s) URL"))
        }
        let checkout = table.withLock { $0.checkout(service) { makeConnection(service, url: url) } }
        guard case .ready(let lease, let evicted) = checkout else {
            return .failed(UpstreamHTTP.failure(
                .tooManyConnections, service,
                "cannot be reached now: this worker has \(options.maximumConnections) upstream sessions open, all busy with calls"))
        }
        close(evicted, why: "least recently used")
        let timeout = options.callTimeout
        return await withDeadline(
            timeout,
            onTimeout: { .failed(UpstreamHTTP.failure(.timeout, service, "no answer to tools/call '\(request.toolName)' within \(timeout)")) },
            onCancel: { .failed(UpstreamHTTP.failure(.cancelled, service, "tools/call '\(request.toolName)' was cancelled")) },
            operation: { [self] in
                let outcome = await lease.connection.callTool(request)
                // Given back when the call really ends (a timed-out call ends once its cancellation lands).
                if let unheld = table.withLock({ $0.checkin(service, serial: lease.serial) }) {
                    close([unheld], why: "no session uses it")
                }
                return outcome
            }
        )
    }

    public func holdServices(_ services: Set<UpstreamService>) {
        guard !services.isEmpty else { return }
        table.withLock { $0.hold(services) }
    }

    public func releaseServices(_ services: Set<UpstreamService>) {
        guard !services.isEmpty else { return }
        close(table.withLock { $0.release(services) }, why: "no session uses it")
    }

    /// Upstream sessions open now.
    public var connectionCount: Int { table.withLock { $0.count } }

    func hasConnection(for service: UpstreamService) -> Bool { table.withLock { $0.hasConnection(for: service) } }

    private func makeConnection(_ service: UpstreamService, url: URL) -> any UpstreamConnection {
        let settings = UpstreamConnectionSettings(
            clientName: options.clientName, clientVersion: options.clientVersion,
            requestTimeout: Double(options.callTimeout.components.seconds) + 5,
            maximumResponseBytes: options.maximumResponseBytes,
            maximumEventStreamLineBytes: options.maximumEventStreamLineBytes,
            maximumEventStreamEventBytes: options.maximumEventStreamEventBytes,
            idleTimeout: options.idleTimeout, logger: logger)
        logger.debug("Opened upstream session", metadata: ["service": "\(service.description)"])
        switch service.transport {
        case .serverSentEvents: return LegacySSEConnection(service: service, url: url, client: client, settings: settings)
        default: return StreamableHTTPConnection(service: service, url: url, client: client, settings: settings)
        }
    }

    /// Closes upstream sessions in the background: closing may wait on the network (a DELETE).
    private func close(_ connections: [any UpstreamConnection], why: String) {
        guard !connections.isEmpty else { return }
        logger.debug("Closing upstream sessions", metadata: ["count": "\(connections.count)", "reason": "\(why)"])
        Task {
            for connection in connections { await connection.close() }
        }
    }

    /// Closes every upstream session and cancels what is in flight.
    public func shutdown() async {
        let all = table.withLock { $0.removeAll() }
        for connection in all { await connection.close() }
        client.shutdown()
    }
}

import Foundation
import Logging
import Synchronization

/// Forwards `tools/call` to upstream MCP services over Streamable HTTP or HTTP+SSE, keeping one
/// upstream session per service (and owner), with a deadline on every call and no retries.
public final class UpstreamBridge: ToolCallBridge {
    /// Bridge settings.
    public struct Options: Sendable {
        /// The deadline of one call, upstream `initialize` included.
        public var callTimeout: Duration
        /// `clientInfo` sent to upstream services.
        public var clientName: String
        public var clientVersion: String
        /// Larger answers are refused as malformed.
        public var maximumResponseBytes: Int
        /// Concurrent HTTP connections per upstream host.
        public var maximumConnectionsPerHost: Int

        public init(callTimeout: Duration = .seconds(30), clientName: String = "xiaozhi-recovery-pool",
                    clientVersion: String = "1.0.0", maximumResponseBytes: Int = 64 << 20,
                    maximumConnectionsPerHost: Int = 128) {
            self.callTimeout = callTimeout
            self.clientName = clientName
            self.clientVersion = clientVersion
            self.maximumResponseBytes = maximumResponseBytes
            self.maximumConnectionsPerHost = maximumConnectionsPerHost
        }
    }

    private let options: Options
    private let client: HTTPStreamingClient
    private let connections = Mutex<[UpstreamService: any UpstreamConnection]>([:])
    private let logger: Logger

    public init(options: Options = Options(), logger: Logger = Logger(label: "mcp.bridge")) {
        self.options = options
        self.client = HTTPStreamingClient(maximumConnectionsPerHost: options.maximumConnectionsPerHost)
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
        guard let connection = connection(for: service) else {
            return .failed(UpstreamHTTP.failure(.malformedResponse, service, "has an Endpoint that is not an http(s) URL"))
        }
        let timeout = options.callTimeout
        return await withDeadline(
            timeout,
            onTimeout: { .failed(UpstreamHTTP.failure(.timeout, service, "no answer to tools/call '\(request.toolName)' within \(timeout)")) },
            onCancel: { .failed(UpstreamHTTP.failure(.cancelled, service, "tools/call '\(request.toolName)' was cancelled")) },
            operation: { await connection.callTool(request) }
        )
    }

    private func connection(for service: UpstreamService) -> (any UpstreamConnection)? {
        guard let url = URL(string: service.endpoint), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else { return nil }
        return connections.withLock { connections in
            if let existing = connections[service] { return existing }
            let settings = UpstreamConnectionSettings(
                clientName: options.clientName, clientVersion: options.clientVersion,
                requestTimeout: Double(options.callTimeout.components.seconds) + 5,
                maximumResponseBytes: options.maximumResponseBytes, logger: logger)
            let created: any UpstreamConnection
            switch service.transport {
            case .serverSentEvents: created = LegacySSEConnection(service: service, url: url, client: client, settings: settings)
            default: created = StreamableHTTPConnection(service: service, url: url, client: client, settings: settings)
            }
            connections[service] = created
            logger.debug("Opened upstream session", metadata: ["service": "\(service.description)"])
            return created
        }
    }

    /// Closes the upstream sessions of services no longer in use (after a catalog change).
    public func retainSessions(for services: Set<UpstreamService>) async {
        let stale: [any UpstreamConnection] = connections.withLock { connections in
            let gone = connections.keys.filter { !services.contains($0) }
            return gone.compactMap { connections.removeValue(forKey: $0) }
        }
        for connection in stale { await connection.close() }
    }

    /// Closes every upstream session and cancels what is in flight.
    public func shutdown() async {
        let all: [any UpstreamConnection] = connections.withLock { connections in
            defer { connections.removeAll() }
            return Array(connections.values)
        }
        for connection in all { await connection.close() }
        client.shutdown()
    }
}

import Synchronization
import WebSocket

/// Holds many WebSocket sessions (thousands) on a few event-loop threads: no thread per session.
/// Client sessions come from `connect`, server sessions from `listen`.
public final class SessionHost: Sendable {
    /// The loops the sessions run on.
    public let group: EventLoopGroup
    private let liveSessions = Atomic<Int>(0)

    /// Starts `threads` event loops (at most 8; 2 suits a small machine).
    public init(threads: Int = 2) throws(TransportError) {
        group = try EventLoopGroup(threads: threads)
    }

    /// Sessions opened or opening and not yet closed.
    public var sessionCount: Int { liveSessions.load(ordering: .relaxed) }

    /// Opens a client session to `address` (ws:// or wss://).
    public func connect(_ address: String, options: SessionOptions = SessionOptions()) async throws(SessionError) -> WebSocketSession {
        let url: WebSocketURL
        do { url = try WebSocketURL(address) } catch { throw .invalidURL(error) }
        return try await connect(url: url, options: options)
    }

    /// Opens a client session to `url`: resolve, TCP, TLS for wss, the HTTP upgrade, each under its timeout.
    public func connect(url: WebSocketURL, options: SessionOptions = SessionOptions()) async throws(SessionError) -> WebSocketSession {
        var tls: TLSContext?
        if url.isSecure {
            do { tls = try TLSContext.client(options.tls) } catch { throw .transport(error, url: url.redacted) }
        }
        let loop = group.next()
        let counter = self
        let box = SessionBox()
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<WebSocketSession, any Error>) in
                    counter.liveSessions.add(1, ordering: .relaxed)
                    loop.execute { [tls] in
                        let session = WebSocketSession.connectClient(url: url, options: options, tls: tls, on: loop, waiter: waiter) {
                            counter.liveSessions.subtract(1, ordering: .relaxed)
                        }
                        box.set(session)
                    }
                }
            } onCancel: {
                box.cancel()
            }
        } catch let error as SessionError {
            throw error
        } catch {
            throw .cancelled
        }
    }

    /// Listens for WebSocket clients on `host:port` (port 0 picks one); `onSession` runs on a loop thread
    /// for each session whose handshake succeeded: hand its work to a task rather than block there.
    public func listen(host: String = "127.0.0.1", port: Int = 0, options: ServerOptions = ServerOptions(),
                       onSession: @escaping @Sendable (WebSocketSession, HTTPRequestHead) -> Void) throws(TransportError) -> WebSocketServer {
        try WebSocketServer(host: host, port: port, options: options, group: group, onSession: onSession) { [self] delta in
            liveSessions.add(delta, ordering: .relaxed)
        }
    }

    /// Stops the loops. Close the sessions first; the sockets of sessions still open are abandoned.
    public func shutdown() { group.shutdown() }
}

/// Hands the session made on the loop to a cancellation handler that may run on any thread.
private final class SessionBox: Sendable {
    private let state = Mutex<(session: WebSocketSession?, cancelled: Bool)>((nil, false))

    func set(_ session: WebSocketSession) {
        let cancelled = state.withLock { value -> Bool in
            value.session = session
            return value.cancelled
        }
        if cancelled { session.cancelConnect() }
    }

    func cancel() {
        let session = state.withLock { value -> WebSocketSession? in
            value.cancelled = true
            return value.session
        }
        session?.cancelConnect()
    }
}

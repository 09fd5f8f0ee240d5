import WebSocket

/// How a server accepts WebSocket sessions.
public struct ServerOptions: Sendable {
    /// The server certificate for wss://; nil serves plain ws://.
    public var tls: TLSContext?
    /// Limit for the TLS handshake and for the HTTP upgrade request, each.
    public var handshakeTimeout: Duration
    /// Frame and message limits, ping interval, silence deadline, close timeout.
    public var connection: WebSocketConnection.Configuration
    /// Unsent bytes past which the peer is taken as not reading.
    public var maxOutboundBytes: Int
    /// Decides on each upgrade request: nil accepts, a status (401, 404...) refuses with that HTTP answer.
    public var accept: (@Sendable (HTTPRequestHead) -> Int?)?
    /// How long to hold each upgrade request before deciding on it (a slow server), on a timer of the
    /// session's loop: other sessions go on meanwhile.
    public var answerDelay: (@Sendable (HTTPRequestHead) -> Duration)?

    public init(tls: TLSContext? = nil, handshakeTimeout: Duration = .seconds(10),
                connection: WebSocketConnection.Configuration = WebSocketConnection.Configuration(),
                maxOutboundBytes: Int = 16 << 20, accept: (@Sendable (HTTPRequestHead) -> Int?)? = nil,
                answerDelay: (@Sendable (HTTPRequestHead) -> Duration)? = nil) {
        self.tls = tls
        self.handshakeTimeout = handshakeTimeout
        self.connection = connection
        self.maxOutboundBytes = maxOutboundBytes
        self.accept = accept
        self.answerDelay = answerDelay
    }
}

/// A listening WebSocket server on a host's loops: accept, TLS when configured, the upgrade, then a session.
public final class WebSocketServer: Sendable {
    private let listener: Listener
    /// The bound port (useful when listening on port 0).
    public let port: Int
    /// The bound host.
    public let host: String

    init(host: String, port: Int, options: ServerOptions, group: EventLoopGroup,
         onSession: @escaping @Sendable (WebSocketSession, HTTPRequestHead) -> Void,
         count: @escaping @Sendable (Int) -> Void) throws(TransportError) {
        let acceptLoop = group.loops[0]
        listener = try Listener(host: host, port: port, on: acceptLoop) { fd, peer in
            let loop = group.next()
            count(1)
            loop.execute {
                WebSocketSession.acceptServer(fd: fd, peer: peer, options: options, on: loop, accept: options.accept,
                                              onOpen: { session, head in onSession(session, head) },
                                              onFinished: { count(-1) })
            }
        }
        self.port = listener.address.port
        self.host = listener.address.host
    }

    /// Stops accepting (no connection is accepted once it returns); sessions already open go on.
    public func close() { listener.close() }
}

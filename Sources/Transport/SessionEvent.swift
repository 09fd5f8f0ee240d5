import WebSocket

/// What a session delivers, in order: messages, then exactly one `closed` as the last event.
public enum SessionEvent: Sendable, Hashable {
    case message(WebSocketMessage)
    /// The session is over: the close code, who closed, and the protocol error if any; `transportError`
    /// says what the socket reported when it ended without a close handshake (reset, TLS failure...).
    case closed(WebSocketCloseInfo, transportError: TransportError?)
}

/// Where a session's messages go. Either way its close arrives on `events` as the last event.
public enum MessageDelivery: Sendable, Hashable {
    /// On `events`, as `.message`, for a task to iterate.
    case events
    /// To the handler given to `WebSocketSession.onMessage`, called on the session's loop thread (no task
    /// switch per message); the messages that arrive before the handler is set wait for it, up to
    /// `SessionOptions.maxHeldBytes`.
    case handler
}

/// How a client session connects and behaves.
public struct SessionOptions: Sendable {
    /// What a wss:// connection trusts (system store, extra CA file, verification).
    public var tls: TLSConfiguration
    /// Limits for resolution + TCP connect and for the TLS handshake.
    public var timeouts: ConnectTimeouts
    /// Limit for the HTTP upgrade, from the request sent to the 101 received.
    public var handshakeTimeout: Duration
    /// Frame and message limits, ping interval, silence deadline, close timeout.
    public var connection: WebSocketConnection.Configuration
    /// Extra request headers (e.g. `Authorization`); never logged.
    public var headers: HTTPHeaders
    /// Unsent bytes past which the peer is taken as not reading and the session fails.
    public var maxOutboundBytes: Int
    /// Where the messages go (`events` unless a handler is to take them from the first one).
    public var messageDelivery: MessageDelivery
    /// With delivery `.handler`: bytes of messages kept for a handler not set yet past which the session is
    /// closed with 1008 (a peer flooding a session before anyone reads it); what arrives after is dropped.
    public var maxHeldBytes: Int

    public init(tls: TLSConfiguration = .default, timeouts: ConnectTimeouts = ConnectTimeouts(),
                handshakeTimeout: Duration = .seconds(10),
                connection: WebSocketConnection.Configuration = WebSocketConnection.Configuration(),
                headers: HTTPHeaders = HTTPHeaders(), maxOutboundBytes: Int = 16 << 20,
                messageDelivery: MessageDelivery = .events, maxHeldBytes: Int = 16 << 20) {
        self.tls = tls
        self.timeouts = timeouts
        self.handshakeTimeout = handshakeTimeout
        self.connection = connection
        self.headers = headers
        self.maxOutboundBytes = maxOutboundBytes
        self.messageDelivery = messageDelivery
        self.maxHeldBytes = maxHeldBytes
    }
}

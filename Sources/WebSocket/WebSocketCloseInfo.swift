/// How a WebSocket connection ended: reported once by `WebSocketConnection.Action.closed`.
public struct WebSocketCloseInfo: Sendable, Hashable, CustomStringConvertible {
    /// Who ended the connection.
    public enum Initiator: Sendable, Hashable {
        /// This side sent the first close frame (by request, or to fail a misbehaving peer).
        case local
        /// The peer sent the first close frame.
        case peer
        /// Nobody closed cleanly: silence, a lost transport, or an unanswered close.
        case transport
    }

    /// The code of the close frame that started the closing handshake: the peer's when it closed first
    /// (1005 when its frame had no code), ours when we did, 1006 when the transport ended without one.
    public var code: WebSocketCloseCode
    /// The reason that accompanied `code`.
    public var reason: String
    public var initiator: Initiator
    /// Set when the connection did not end by a clean close handshake.
    public var error: WebSocketConnectionError?

    public init(code: WebSocketCloseCode, reason: String, initiator: Initiator, error: WebSocketConnectionError? = nil) {
        self.code = code
        self.reason = reason
        self.initiator = initiator
        self.error = error
    }

    public var description: String {
        var text = "closed with \(code)"
        if !reason.isEmpty { text += " \"\(reason)\"" }
        switch initiator {
        case .local: text += " by this side"
        case .peer: text += " by the peer"
        case .transport: text += " without a close handshake"
        }
        if let error { text += ": \(error)" }
        return text
    }
}

/// Why a WebSocket connection ended other than by a clean close handshake, or why an event was refused.
public enum WebSocketConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The peer broke RFC 6455; the connection was failed with the error's close code.
    case protocolViolation(WebSocketProtocolError)
    /// No byte arrived from the peer for the silence timeout.
    case peerSilent(timeout: Duration)
    /// The peer did not answer our close frame within the close timeout.
    case closeHandshakeTimedOut(timeout: Duration)
    /// The transport ended (EOF, reset) before a close frame arrived.
    case connectionLost
    /// A message was sent after the close handshake began.
    case notOpen

    public var description: String {
        switch self {
        case .protocolViolation(let error): "protocol violation by the peer: \(error)"
        case .peerSilent(let timeout): "no data from the peer for \(timeout)"
        case .closeHandshakeTimedOut(let timeout): "the peer did not answer the close frame within \(timeout)"
        case .connectionLost: "the connection ended without a close frame"
        case .notOpen: "the connection is closing or closed"
        }
    }
}

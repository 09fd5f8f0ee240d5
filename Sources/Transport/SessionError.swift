import WebSocket

/// Why a WebSocket session could not be opened or ended badly. Names the address (redacted) and the
/// reason; never carries the token of the address or a header value.
public enum SessionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The address is not a usable ws:// or wss:// URL.
    case invalidURL(WebSocketURLError)
    /// The socket or TLS failed: refused, timeout (with its phase), reset, TLS failure with the reason.
    case transport(TransportError, url: String)
    /// The opening handshake failed: an HTTP status other than 101, a wrong accept key, a malformed answer.
    case handshake(WebSocketHandshakeError, url: String)
    /// The opening handshake did not finish in time.
    case handshakeTimeout(url: String, after: Duration)
    /// The session ended: the close code and who closed, with the protocol error or silence that caused it.
    case closed(WebSocketCloseInfo)
    /// The connecting task was cancelled.
    case cancelled

    /// Whether retrying the same address cannot help: a malformed address, HTTP 401/403/404 (and other 4xx
    /// but 408/429) at the handshake, a policy-violation close (1008), or a certificate the trust store rejects.
    public var isPermanent: Bool {
        switch self {
        case .invalidURL: return true
        case .handshake(let error, _): return error.isPermanent
        case .closed(let info): return info.code == .policyViolation
        case .transport(.invalidAddress, _): return true
        case .transport(.tlsFailure(_, let reason), _):
            // A certificate that does not verify stays so; a cut or garbled handshake may pass next time.
            return reason.contains("certificate") || reason.contains("hostname mismatch") || reason.contains("IP address mismatch")
        default: return false
        }
    }

    /// Whether the client gave up waiting (cancelled or out of time) rather than being answered: its
    /// upgrade request may still be with the server.
    public var abandonsHandshake: Bool {
        switch self {
        case .cancelled, .handshakeTimeout: return true
        default: return false
        }
    }

    /// The HTTP status the server answered at the handshake, if that is why.
    public var httpStatus: Int? {
        if case .handshake(let error, _) = self { return error.httpStatus }
        return nil
    }

    public var description: String {
        switch self {
        case .invalidURL(let error): return "\(error)"
        case .transport(let error, let url): return "\(url): \(error)"
        case .handshake(let error, let url): return "\(url): \(error)"
        case .handshakeTimeout(let url, let after): return "\(url): WebSocket handshake timed out after \(after)"
        case .closed(let info): return "session \(info)"
        case .cancelled: return "connect cancelled"
        }
    }
}

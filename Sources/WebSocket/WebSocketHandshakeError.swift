/// Why an opening handshake failed. Never carries a header value that could hold a secret.
public enum WebSocketHandshakeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered with an HTTP status other than 101.
    case unexpectedStatus(status: Int, reason: String)
    /// The head could not be parsed (the detail names what was wrong, not the bytes).
    case malformedHead(String)
    /// The head exceeded the size limit before its blank line.
    case headTooLarge(limit: Int)
    /// The response lacked `Upgrade: websocket`.
    case missingUpgradeHeader
    /// The response lacked `Connection: Upgrade`.
    case missingConnectionHeader
    /// `Sec-WebSocket-Accept` was absent or did not match the key we sent.
    case invalidAccept
    /// The server selected an extension or subprotocol we never offered.
    case unrequestedExtension(String)
    /// A request the server side refuses; `status` is the HTTP status to answer with (400, 405, 426...).
    case invalidRequest(status: Int, reason: String)

    /// How a caller should treat the failure.
    public enum Classification: Sendable, Hashable {
        /// Retrying the same address cannot help (401, 403, 404, a broken handshake response...).
        case permanent
        /// Worth retrying later (5xx, 408, 429).
        case transient
    }

    /// 401/403/404 (and 400, 405, 410, 426, other 4xx) are permanent; 5xx, 408 and 429 are transient. A response
    /// that is not a valid WebSocket upgrade is transient: a proxy or a restarting server may answer so briefly.
    public var classification: Classification {
        switch self {
        case .unexpectedStatus(let status, _):
            switch status {
            case 408, 429: return .transient
            case 400...499: return .permanent
            default: return .transient
            }
        case .invalidRequest:
            return .permanent
        case .malformedHead, .headTooLarge, .missingUpgradeHeader, .missingConnectionHeader, .invalidAccept,
            .unrequestedExtension:
            return .transient
        }
    }

    /// Whether retrying cannot help.
    public var isPermanent: Bool { classification == .permanent }

    /// The HTTP status of a non-101 answer, nil for other failures.
    public var httpStatus: Int? {
        if case .unexpectedStatus(let status, _) = self { return status }
        return nil
    }

    public var description: String {
        switch self {
        case .unexpectedStatus(let status, let reason):
            "handshake answered HTTP \(status)\(reason.isEmpty ? "" : " \(reason)") instead of 101"
        case .malformedHead(let detail): "malformed HTTP head: \(detail)"
        case .headTooLarge(let limit): "HTTP head exceeds \(limit) bytes"
        case .missingUpgradeHeader: "handshake response lacks 'Upgrade: websocket'"
        case .missingConnectionHeader: "handshake response lacks 'Connection: Upgrade'"
        case .invalidAccept: "handshake response has a missing or wrong Sec-WebSocket-Accept"
        case .unrequestedExtension(let name): "handshake response selects an unrequested \(name)"
        case .invalidRequest(let status, let reason): "handshake request refused with \(status): \(reason)"
        }
    }
}

import ClientSupport
import Foundation

/// Why opening or keeping an endpoint's session failed, in terms the transport layer can map into.
/// Every detail string must already be free of secrets; addresses are redacted again here.
public enum FailureCause: Sendable, Equatable, Hashable {
    /// The endpoint's address does not parse as a URL with a host.
    case malformedAddress(String)
    /// A scheme other than ws or wss.
    case unsupportedScheme(String)
    /// The host name did not resolve.
    case nameResolutionFailed(host: String)
    /// TCP connection refused.
    case connectionRefused
    /// No answer in time; `phase` says where (connect, TLS handshake, WebSocket handshake, initialize…).
    case timeout(phase: String)
    /// The peer reset or dropped the connection.
    case connectionReset
    /// The TLS handshake was cut or failed.
    case tlsHandshakeFailed(String)
    /// The server's certificate did not verify.
    case certificateRejected(String)
    /// The HTTP upgrade was answered with a status other than 101.
    case handshakeRejected(status: Int)
    /// The server sent a close frame.
    case closed(code: Int, reason: String)
    /// The peer broke RFC 6455 or JSON-RPC framing.
    case protocolViolation(String)
    /// Anything else.
    case other(String)

    /// Permanent or transient (see `FailureClassifier`).
    public var kind: FailureKind { FailureClassifier.classify(self) }

    /// A one-line description for a result, a log line or a dead-letter header.
    public var message: String {
        switch self {
        case .malformedAddress(let address): return "malformed address \(Redaction.webSocketAddress(address))"
        case .unsupportedScheme(let scheme): return "unsupported scheme '\(scheme)' (expected ws or wss)"
        case .nameResolutionFailed(let host): return "could not resolve host \(host)"
        case .connectionRefused: return "connection refused"
        case .timeout(let phase): return "timed out during \(phase)"
        case .connectionReset: return "connection reset by peer"
        case .tlsHandshakeFailed(let detail): return "TLS handshake failed: \(detail)"
        case .certificateRejected(let detail): return "server certificate rejected: \(detail)"
        case .handshakeRejected(let status): return "WebSocket handshake rejected with HTTP \(status)"
        case .closed(let code, let reason):
            let shown = reason.count > 123 ? String(reason.prefix(120)) + "..." : reason
            return shown.isEmpty ? "closed by server with code \(code)" : "closed by server with code \(code): \(shown)"
        case .protocolViolation(let detail): return "protocol violation: \(detail)"
        case .other(let detail): return detail
        }
    }

    /// The `error` object of a result.
    public var jobError: JobError { JobError(kind: kind, message: message) }
}

/// Decides whether a failure is worth retrying.
public enum FailureClassifier {
    /// HTTP statuses at the WebSocket handshake that mean the endpoint itself is wrong (bad or revoked token, gone).
    public static let permanentHandshakeStatuses: Set<Int> = [401, 403, 404]
    /// Close codes that mean the server refuses this endpoint (1008: policy violation).
    public static let permanentCloseCodes: Set<Int> = [1008]

    /// Permanent: malformed address, unsupported scheme, HTTP 401/403/404 at the handshake, close code 1008.
    /// Transient: everything else (refused, timeout, reset, 5xx, TLS cut, other statuses and closes).
    public static func classify(_ cause: FailureCause) -> FailureKind {
        switch cause {
        case .malformedAddress, .unsupportedScheme:
            return .permanent
        case .handshakeRejected(let status):
            return permanentHandshakeStatuses.contains(status) ? .permanent : .transient
        case .closed(let code, _):
            return permanentCloseCodes.contains(code) ? .permanent : .transient
        case .nameResolutionFailed, .connectionRefused, .timeout, .connectionReset, .tlsHandshakeFailed,
             .certificateRejected, .protocolViolation, .other:
            return .transient
        }
    }
}

extension FailureCause {
    /// The permanent failure an endpoint address has before any connection is tried: not a URL with a
    /// host (`malformedAddress`, redacted) or a scheme other than ws/wss (`unsupportedScheme`); nil when usable.
    public static func addressProblem(_ address: String) -> FailureCause? {
        let trimmed = address.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme else {
            return .malformedAddress(address)
        }
        guard ["ws", "wss"].contains(scheme.lowercased()) else {
            return .unsupportedScheme(String(scheme.prefix(20)))
        }
        guard let host = components.host, !host.isEmpty else { return .malformedAddress(address) }
        if let port = components.port, !(1...65_535).contains(port) { return .malformedAddress(address) }
        return nil
    }
}

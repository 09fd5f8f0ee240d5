import RecoveryCore
import Transport
import WebSocket

extension FailureCause {
    /// The recovery domain's view of why a session could not be opened or ended; classified by
    /// `FailureClassifier` (SPEC §7), not by the transport's own notion of permanence.
    public init(_ error: SessionError) {
        switch error {
        case .invalidURL(let urlError):
            if case .unsupportedScheme(let scheme) = urlError.reason {
                self = .unsupportedScheme(scheme)
            } else {
                self = .malformedAddress(urlError.description)
            }
        case .transport(let transportError, _):
            self = FailureCause(transportError)
        case .handshake(let handshakeError, _):
            if let status = handshakeError.httpStatus {
                self = .handshakeRejected(status: status)
            } else {
                self = .protocolViolation(handshakeError.description)
            }
        case .handshakeTimeout:
            self = .timeout(phase: "WebSocket handshake")
        case .closed(let info):
            if info.initiator == .transport {
                self = .connectionReset
            } else {
                self = .closed(code: Int(info.code.rawValue), reason: info.reason)
            }
        case .cancelled:
            self = .other("connect cancelled")
        }
    }

    /// The recovery domain's view of a socket or TLS failure.
    public init(_ error: TransportError) {
        switch error {
        case .invalidAddress(let what): self = .malformedAddress(what)
        case .resolutionFailed(let host, _): self = .nameResolutionFailed(host: host)
        case .refused: self = .connectionRefused
        case .timeout(let phase, _, _): self = .timeout(phase: phase.description)
        case .reset: self = .connectionReset
        case .tlsFailure(_, let reason):
            if reason.contains("certificate") || reason.contains("mismatch") {
                self = .certificateRejected(reason)
            } else {
                self = .tlsHandshakeFailed(reason)
            }
        case .system(let call, let code): self = .other("\(call) failed with errno \(code)")
        case .outboundBufferFull: self = .other("peer stopped reading")
        case .closed: self = .connectionReset
        }
    }
}

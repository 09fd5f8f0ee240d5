/// The phase of opening a connection that a timeout or failure belongs to.
public enum ConnectPhase: String, Sendable, Hashable, CustomStringConvertible {
    case resolve, connect, tls, handshake, silence, write, close
    public var description: String { rawValue }
}

/// A failure of the transport: each case names the peer and the reason, never a secret.
public enum TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The address could not be used (bad host, bad port, unsupported scheme).
    case invalidAddress(String)
    /// The host name did not resolve.
    case resolutionFailed(host: String, reason: String)
    /// Every address of the host refused the connection.
    case refused(host: String, port: Int)
    /// A phase did not finish in time.
    case timeout(phase: ConnectPhase, host: String, port: Int)
    /// The peer reset or closed the connection unexpectedly.
    case reset(host: String, port: Int, during: ConnectPhase?)
    /// The TLS handshake or a TLS record failed; `reason` is OpenSSL's word for it.
    case tlsFailure(host: String, reason: String)
    /// A system call failed.
    case system(call: String, errno: Int32)
    /// The peer stopped reading and the outbound buffer passed its limit.
    case outboundBufferFull(host: String, bytes: Int)
    /// The connection was already closed.
    case closed

    public var description: String {
        switch self {
        case .invalidAddress(let what): return "invalid address: \(what)"
        case .resolutionFailed(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .refused(let host, let port): return "connection refused by \(host):\(port)"
        case .timeout(let phase, let host, let port): return "\(phase) timed out for \(host):\(port)"
        case .reset(let host, let port, let phase):
            return "connection reset by \(host):\(port)" + (phase.map { " during \($0)" } ?? "")
        case .tlsFailure(let host, let reason): return "TLS failure with \(host): \(reason)"
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
        case .outboundBufferFull(let host, let bytes): return "\(host) stopped reading (\(bytes) bytes unsent)"
        case .closed: return "connection closed"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// An open the worker gave up on after its upgrade request went out may still be admitted by a slow
/// server later, and Xiaozhi then evicts whatever session the endpoint has by then. So the attempt keeps
/// its lease for one more connect timeout before any retry may run, here or on another worker; only a
/// server slower than twice the connect timeout can still admit it late.
public enum AbandonedHandshakeHold {
    /// Timeout phases that end before the upgrade request is written (name lookup, TCP connect, TLS).
    public static let phasesBeforeTheRequest: Set<String> = ["resolve", "connect", "tls"]

    /// How long the lease is kept after an attempt that failed with `cause`; nil when no request can be left
    /// with the server (it answered, refused, or the attempt ended before sending it).
    public static func duration(after cause: FailureCause, connectTimeout: Duration) -> Duration? {
        guard case .timeout(let phase) = cause, !phasesBeforeTheRequest.contains(phase) else { return nil }
        return connectTimeout
    }
}

/// Bounds on one HTTP response as it is read: what a hostile or broken service can make the
/// process hold, and how long it can keep a request open by saying nothing.
struct HTTPStreamLimits: Sendable, Hashable {
    /// Body bytes the whole response may have; nil for a long-lived event stream, whose reader bounds
    /// what it keeps instead.
    var maximumBodyBytes: Int?
    /// No byte for this long once the head arrived ends the response. Before the head, the request's
    /// own timeout and the call's deadline apply (a service may compute before it answers).
    var idleTimeout: Duration
}

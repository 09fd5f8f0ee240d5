import Synchronization

/// The body of a streamed reply (`HTTPReply.stream`), written from any thread or task. Bytes wait here
/// until the connection's loop takes them; what the client has not taken yet is bounded, so a client that
/// stops reading costs the server at most `HTTPServerLimits.maxStreamBufferedBytes`.
public final class HTTPBodyWriter: Sendable {
    private struct State {
        var queued: [UInt8] = []
        /// Bytes the connection took from `queued` that the socket has not taken yet.
        var inFlight = 0
        var closed = false
        /// The unsent bytes passed the limit: the connection is to close.
        var overflowed = false
        /// The connection has been woken for `queued` and has not taken it yet.
        var wakePending = false
    }

    private let state = Mutex(State())
    private let limit: Int
    /// Asks the connection's loop to take the queued bytes (or to close, after an overflow).
    private let wake: @Sendable () -> Void

    init(limit: Int, wake: @escaping @Sendable () -> Void) {
        self.limit = limit
        self.wake = wake
    }

    /// Queues bytes for the client from any thread; false once the client has gone, the server closed, or the
    /// unsent bytes passed `HTTPServerLimits.maxStreamBufferedBytes` (the connection is then closed).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        let (accepted, wakes) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            guard !bytes.isEmpty else { return (true, false) }
            if state.queued.count + state.inFlight + bytes.count > limit {
                state.closed = true
                state.overflowed = true
                state.queued = []
            } else {
                state.queued.append(contentsOf: bytes)
            }
            let wakes = !state.wakePending
            state.wakePending = true
            return (!state.overflowed, wakes)
        }
        if wakes { wake() }
        return accepted
    }

    /// Whether writes are refused from now on (the client went away, the server closed, or the stream ended).
    public var isClosed: Bool { state.withLock { $0.closed } }

    // MARK: The connection's side (its loop thread)

    /// The bytes queued since the last call, and whether the limit was passed (then the connection closes).
    func take() -> (bytes: [UInt8], overflowed: Bool) {
        state.withLock { state in
            state.wakePending = false
            let bytes = state.queued
            state.queued = []
            state.inFlight += bytes.count
            return (bytes, state.overflowed)
        }
    }

    /// The connection's unsent bytes now (after the socket took some).
    func setInFlight(_ count: Int) {
        state.withLock { $0.inFlight = count }
    }

    /// Refuses further writes and drops what was not taken.
    func close() {
        state.withLock { state in
            state.closed = true
            state.queued = []
        }
    }
}

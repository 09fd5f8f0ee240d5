import Dispatch
import Foundation
import Synchronization

/// Resolves host names off the event loops, in parallel and each within its caller's deadline.
///
/// getaddrinfo blocks and cannot be cancelled, so every lookup runs on a thread of its own, as many at
/// once as `ResolutionSchedule` allows; callers asking for the same name share one lookup. A caller whose
/// deadline passes fails at once with an error naming the host and the timeout, whatever the lookup is
/// doing: a name server that never answers costs only the connects that need that name.
public final class HostResolver: Sendable {
    /// The lookup itself: getaddrinfo by default, replaceable to test the scheduling.
    public typealias Lookup = @Sendable (_ host: String, _ port: Int) throws(TransportError) -> [SocketAddress]
    public typealias Completion = @Sendable (Result<[SocketAddress], TransportError>) -> Void

    /// The resolver every connection uses.
    public static let shared = HostResolver()

    /// A lookup thread needs little stack of its own, but NSS modules may use more than the minimum.
    static let lookupThreadStackBytes = 1 << 20

    private struct State: Sendable {
        var schedule: ResolutionSchedule<UInt64>
        var callers: [UInt64: (key: ResolutionSchedule<UInt64>.Key, timeout: Duration, completion: Completion)] = [:]
        var nextCaller: UInt64 = 1
    }

    private let state: Mutex<State>
    private let lookup: Lookup
    private let timers = DispatchQueue(label: "transport.resolver.deadlines")

    /// `maxActive` lookups someone waits for run at once, `maxRunning` in all (see `ResolutionSchedule`).
    public init(maxActive: Int = 8, maxRunning: Int = 16, lookup: @escaping Lookup = { host, port throws(TransportError) in
        try SocketAddress.resolve(host: host, port: port)
    }) {
        self.state = Mutex(State(schedule: ResolutionSchedule(maxActive: maxActive, maxRunning: maxRunning)))
        self.lookup = lookup
    }

    /// Resolves `host:port` and calls `completion` exactly once, on a lookup or timer thread: with the
    /// addresses, the lookup's own error, or, once `timeout` has passed without an answer,
    /// `TransportError.resolutionFailed` naming the host and the timeout.
    public func resolve(host: String, port: Int, timeout: Duration, completion: @escaping Completion) {
        let key = ResolutionSchedule<UInt64>.Key(host: host, port: port)
        let deadline = Self.now() &+ Self.nanoseconds(timeout)
        let admission = state.withLock { state -> ResolutionSchedule<UInt64>.Admission in
            let caller = state.nextCaller
            state.nextCaller += 1
            state.callers[caller] = (key, timeout, completion)
            return state.schedule.request(key, waiter: caller, deadline: deadline)
        }
        if case .start(let started) = admission { startLookup(started) }
        timers.asyncAfter(deadline: .now() + .nanoseconds(Int(min(Self.nanoseconds(timeout), UInt64(Int.max))))) { [self] in
            expireCallers()
        }
    }

    /// Resolves `host:port` on the calling thread, waiting at most `timeout` (for code that owns a thread).
    public func resolveBlocking(host: String, port: Int, timeout: Duration) throws(TransportError) -> [SocketAddress] {
        let box = Mutex<Result<[SocketAddress], TransportError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        resolve(host: host, port: port, timeout: timeout) { result in
            box.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try box.withLock { $0! }.get()
    }

    /// The error of a caller whose deadline passed.
    static func timedOut(host: String, after timeout: Duration) -> TransportError {
        .resolutionFailed(host: host, reason: "no answer from the name service within \(timeout)")
    }

    /// Lookups running now that someone waits for, running that nobody waits for, and queued.
    var counts: (active: Int, abandoned: Int, queued: Int) {
        state.withLock { ($0.schedule.activeCount, $0.schedule.abandonedCount, $0.schedule.queuedCount) }
    }

    private func startLookup(_ key: ResolutionSchedule<UInt64>.Key) {
        let thread = Thread { [self] in
            let result = Result { () throws(TransportError) in try lookup(key.host, key.port) }
            let (completions, next) = state.withLock { state -> ([Completion], [ResolutionSchedule<UInt64>.Key]) in
                let (waiters, start) = state.schedule.finish(key)
                return (waiters.compactMap { state.callers.removeValue(forKey: $0)?.completion }, start)
            }
            for key in next { startLookup(key) }
            for completion in completions { completion(result) }
        }
        thread.name = "transport.resolver"
        thread.stackSize = Self.lookupThreadStackBytes
        thread.start()
    }

    private func expireCallers() {
        let now = Self.now()
        let (failed, next, soon) = state.withLock { state -> ([(Completion, TransportError)], [ResolutionSchedule<UInt64>.Key], Bool) in
            let (expired, start) = state.schedule.expire(now: now)
            let failed = expired.compactMap { caller -> (Completion, TransportError)? in
                guard let entry = state.callers.removeValue(forKey: caller) else { return nil }
                return (entry.completion, Self.timedOut(host: entry.key.host, after: entry.timeout))
            }
            return (failed, start, state.schedule.nextDeadline.map { $0 <= now &+ Self.timerSlack } ?? false)
        }
        // A timer that fired a hair before its deadline must not leave that caller waiting forever.
        if soon { timers.asyncAfter(deadline: .now() + .nanoseconds(Int(Self.timerSlack))) { [self] in expireCallers() } }
        for key in next { startLookup(key) }
        for (completion, error) in failed { completion(.failure(error)) }
    }

    /// How close to now a pending deadline makes an expiry pass look again shortly.
    private static let timerSlack: UInt64 = 2_000_000

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }
}

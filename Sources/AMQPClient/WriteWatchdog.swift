import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Cuts the broker socket when the connection thread stays in a watched section past its deadline.
///
/// librabbitmq writes frames (publishes, acks, heartbeats) with no deadline of its own: once the send
/// buffer is full because the broker stopped reading (a blocked or frozen node), the write waits in `poll`
/// forever, and with it the connection thread, its heartbeat check and every confirm deadline. Shutting the
/// socket down from this thread makes that write fail, so the loop drops the connection and reconnects.
final class WriteWatchdog: Sendable {
    private struct Watch {
        var descriptor: Int32
        var deadline: ContinuousClock.Instant
        var limit: Duration
        var activity: String
    }

    private struct State {
        var watch: Watch?
        /// What was cut, until the connection thread takes it to name the cause of the loss.
        var cut: String?
        var stopped = false
    }

    private let state = Mutex(State())
    /// How often the watchdog looks; a cut comes at most this late after its deadline.
    private let checkInterval: Duration

    init(name: String, checkInterval: Duration = .milliseconds(250)) {
        self.checkInterval = checkInterval
        let thread = Thread { [self] in run() }
        thread.name = "amqp-watchdog-\(name)"
        thread.start()
    }

    /// Watches `descriptor` for `limit` from now, replacing any earlier watch; `activity` (e.g. "publishing")
    /// names the section in the log line of a cut.
    func watch(descriptor: Int32, for limit: Duration, activity: String) {
        let watch = Watch(descriptor: descriptor, deadline: .now + limit, limit: limit, activity: activity)
        state.withLock { $0.watch = watch }
    }

    /// Ends the watch. The descriptor may be closed only after this: the watchdog never touches it again.
    func unwatch() {
        state.withLock { $0.watch = nil }
    }

    /// What the watchdog cut since the last call (a description for the log), or nil.
    func takeCut() -> String? {
        state.withLock { state in
            defer { state.cut = nil }
            return state.cut
        }
    }

    /// Ends the watchdog's thread (within one check interval).
    func stop() {
        state.withLock { $0.stopped = true }
    }

    private func run() {
        while true {
            let stopped = state.withLock { state -> Bool in
                if let watch = state.watch, ContinuousClock.now >= watch.deadline {
                    // Under the lock: the connection thread cannot close (and reuse) the descriptor meanwhile.
                    _ = shutdown(watch.descriptor, Int32(SHUT_RDWR))
                    state.cut = "the connection thread spent \(AMQPError.seconds(watch.limit)) \(watch.activity)"
                        + " (the broker stopped reading?); the socket was shut down"
                    state.watch = nil
                }
                return state.stopped
            }
            if stopped { return }
            let (seconds, attoseconds) = checkInterval.components
            Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
        }
    }
}

/// The bookkeeping of host-name lookups, as a pure value: which lookups run, which wait for a slot, and
/// which callers have given up. `HostResolver` drives it with threads and a clock.
///
/// Rules:
/// - A request for a host and port already being looked up (or queued) joins that lookup.
/// - At most `maxActive` lookups that someone still waits for run at once; more are queued in order.
/// - Every caller has its own deadline; `expire(now:)` removes the callers past it, who then fail alone.
/// - A running lookup whose callers have all given up is abandoned: getaddrinfo cannot be stopped, so it
///   keeps its thread, but it no longer holds an active slot, so a name server that never answers cannot
///   starve lookups of other names. At most `maxRunning` lookups run in all (active plus abandoned), which
///   bounds the threads even when every name hangs.
/// - A queued lookup whose callers have all given up is dropped without ever running.
struct ResolutionSchedule<Waiter: Hashable & Sendable>: Sendable {
    struct Key: Hashable, Sendable {
        var host: String
        var port: Int
    }

    /// What to do with a new request.
    enum Admission: Equatable, Sendable {
        /// Start a lookup of the key now.
        case start(Key)
        /// A lookup of the key is running or queued already; the caller waits on it.
        case joined
        /// No slot is free; the lookup starts when `finish` or `expire` hands it out.
        case queued
    }

    let maxActive: Int
    let maxRunning: Int
    /// Running lookups and the callers waiting on each (empty: abandoned).
    private(set) var running: [Key: [Waiter]] = [:]
    /// Lookups waiting for a slot, in arrival order, and their callers.
    private var queue: [Key] = []
    private var queuedWaiters: [Key: [Waiter]] = [:]
    /// Each caller's deadline (monotonic nanoseconds).
    private var deadlines: [Waiter: UInt64] = [:]

    init(maxActive: Int, maxRunning: Int) {
        self.maxActive = max(1, maxActive)
        self.maxRunning = max(self.maxActive, maxRunning)
    }

    /// Running lookups someone still waits for.
    var activeCount: Int { running.values.filter { !$0.isEmpty }.count }
    /// Running lookups nobody waits for any more.
    var abandonedCount: Int { running.values.filter(\.isEmpty).count }
    /// Lookups waiting for a slot.
    var queuedCount: Int { queue.count }
    /// Callers waiting for an answer.
    var waiterCount: Int { deadlines.count }

    /// Registers `waiter`'s request for `key`, which it gives up at `deadline`.
    mutating func request(_ key: Key, waiter: Waiter, deadline: UInt64) -> Admission {
        deadlines[waiter] = deadline
        if running[key] != nil {
            running[key]!.append(waiter)
            return .joined
        }
        if queuedWaiters[key] != nil {
            queuedWaiters[key]!.append(waiter)
            return .joined
        }
        if hasFreeSlot {
            running[key] = [waiter]
            return .start(key)
        }
        queue.append(key)
        queuedWaiters[key] = [waiter]
        return .queued
    }

    /// The lookup of `key` returned: the callers still waiting get its result, and the lookups that can
    /// start now are handed out.
    mutating func finish(_ key: Key) -> (waiters: [Waiter], start: [Key]) {
        let waiters = running.removeValue(forKey: key) ?? []
        for waiter in waiters { deadlines[waiter] = nil }
        return (waiters, startQueued())
    }

    /// Removes the callers whose deadline is at or before `now` (they fail with a timeout) and hands out
    /// the lookups that can start in the slots they freed.
    mutating func expire(now: UInt64) -> (expired: [Waiter], start: [Key]) {
        let expired = deadlines.filter { $0.value <= now }.map(\.key)
        guard !expired.isEmpty else { return ([], []) }
        let gone = Set(expired)
        for waiter in expired { deadlines[waiter] = nil }
        for key in Array(running.keys) {
            running[key]!.removeAll { gone.contains($0) }
        }
        for key in Array(queuedWaiters.keys) {
            queuedWaiters[key]!.removeAll { gone.contains($0) }
            if queuedWaiters[key]!.isEmpty {
                queuedWaiters[key] = nil
                queue.removeAll { $0 == key }
            }
        }
        return (expired, startQueued())
    }

    /// The earliest deadline still pending, for the caller's next timer.
    var nextDeadline: UInt64? { deadlines.values.min() }

    private var hasFreeSlot: Bool { activeCount < maxActive && running.count < maxRunning }

    private mutating func startQueued() -> [Key] {
        var started: [Key] = []
        while hasFreeSlot, !queue.isEmpty {
            let key = queue.removeFirst()
            guard let waiters = queuedWaiters.removeValue(forKey: key), !waiters.isEmpty else { continue }
            running[key] = waiters
            started.append(key)
        }
        return started
    }
}

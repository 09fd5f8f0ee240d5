import ClientSupport

/// A one-shot timer on an event loop; `cancel()` it from the loop's thread.
final class LoopTimer {
    let deadline: UInt64
    let sequence: UInt64
    fileprivate(set) var body: (() -> Void)?

    init(deadline: UInt64, sequence: UInt64, body: @escaping () -> Void) {
        self.deadline = deadline
        self.sequence = sequence
        self.body = body
    }

    var isCancelled: Bool { body == nil }
    func cancel() { body = nil }
    func fire() {
        let run = body
        body = nil
        run?()
    }
}

/// The loop's timers, earliest deadline first and, at one deadline, in the order they were scheduled.
struct TimerHeap {
    /// The ordering is kept inline, so that sifting through thousands of sessions' timers compares plain
    /// integers instead of following a reference per comparison.
    private struct Entry: Comparable {
        let deadline: UInt64
        let sequence: UInt64
        let timer: LoopTimer
        static func < (a: Entry, b: Entry) -> Bool {
            a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
        }
        static func == (a: Entry, b: Entry) -> Bool { a.timer === b.timer }
    }

    private var heap = MinHeap<Entry>()
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliestDeadline: UInt64? { heap.first?.deadline }

    mutating func schedule(deadline: UInt64, _ body: @escaping () -> Void) -> LoopTimer {
        nextSequence &+= 1
        let timer = LoopTimer(deadline: deadline, sequence: nextSequence, body: body)
        heap.insert(Entry(deadline: deadline, sequence: nextSequence, timer: timer))
        return timer
    }

    /// Removes and returns every timer due at `now`. The caller fires them after this access ends, so a
    /// timer that schedules another one (a session's next ping) does not touch the heap while it is borrowed.
    mutating func takeDue(now: UInt64) -> [LoopTimer] {
        heap.popWhile { $0.deadline <= now }.map(\.timer)
    }

    /// Drops cancelled timers at the top, so the next deadline is a live one.
    mutating func dropCancelledHead() {
        while let first = heap.first, first.timer.isCancelled { _ = heap.popFirst() }
    }
}

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

/// A binary min-heap of timers ordered by deadline, then by scheduling order.
struct TimerHeap {
    private var items: [LoopTimer] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var earliestDeadline: UInt64? { items.first?.deadline }

    mutating func schedule(deadline: UInt64, _ body: @escaping () -> Void) -> LoopTimer {
        nextSequence &+= 1
        let timer = LoopTimer(deadline: deadline, sequence: nextSequence, body: body)
        items.append(timer)
        siftUp(items.count - 1)
        return timer
    }

    /// Removes and returns every timer due at `now`. The caller fires them after this access ends, so a
    /// timer that schedules another one (a session's next ping) does not touch the heap while it is borrowed.
    mutating func takeDue(now: UInt64) -> [LoopTimer] {
        var due: [LoopTimer] = []
        while let first = items.first, first.deadline <= now {
            due.append(popFirst())
        }
        return due
    }

    /// Drops cancelled timers at the top, so the next deadline is a live one.
    mutating func dropCancelledHead() {
        while let first = items.first, first.isCancelled { _ = popFirst() }
    }

    private func less(_ a: LoopTimer, _ b: LoopTimer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private mutating func popFirst() -> LoopTimer {
        let first = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(0)
        }
        return first
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(items[child], items[parent]) else { return }
            items.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, less(items[left], items[smallest]) { smallest = left }
            if right < items.count, less(items[right], items[smallest]) { smallest = right }
            guard smallest != parent else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

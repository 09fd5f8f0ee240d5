import Foundation
import COpenSSL
import Glibc
import Synchronization

/// Receives readiness events for one registered descriptor, on the loop's thread.
protocol EventHandler: AnyObject {
    func handleEvent(readable: Bool, writable: Bool, hangup: Bool)
}

/// One thread running epoll over many sockets, with timers. Work from any thread enters with
/// `execute`; everything registered on a loop is touched only on that loop's thread.
public final class EventLoop: @unchecked Sendable {
    private struct Registration {
        let handler: EventHandler
        let generation: UInt32
        var readable: Bool
        var writable: Bool
    }

    private struct Inbox {
        var work: [@Sendable () -> Void] = []
        var wakePending = false
        var stopped = false
        /// The loop's thread has ended: work is dropped and the wake-up descriptor is not written.
        var exited = false
    }

    /// The loop's position in its group.
    public let index: Int
    /// The epoll instance; internal for the test that closes it from outside.
    let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = Mutex<Inbox>(Inbox())
    private let threadID = Atomic<UInt>(0)
    private let finished = Mutex<Bool>(false)
    private let finishedCondition = NSCondition()
    private var registrations: [Int32: Registration] = [:]
    private var nextGeneration: UInt32 = 0
    private var timers = TimerHeap()
    /// A scratch buffer for reads on this loop's thread: one per loop, not one per connection.
    let readBuffer: UnsafeMutableRawBufferPointer

    init(index: Int) throws(TransportError) {
        ignoreSIGPIPE()
        self.index = index
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw .system(call: "epoll_create1", errno: errno) }
        let wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wake >= 0 else {
            Glibc.close(ep)
            throw .system(call: "eventfd", errno: errno)
        }
        epollFD = ep
        wakeFD = wake
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = UInt64.max
        epoll_ctl(ep, EPOLL_CTL_ADD, wake, &event)
        let thread = Thread { [self] in run() }
        thread.name = "event-loop-\(index)"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Whether the caller runs on this loop's thread.
    public var inLoop: Bool { threadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Runs `work` on the loop's thread soon; dropped once the loop has ended (after `shutdown`).
    public func execute(_ work: @escaping @Sendable () -> Void) {
        let needsWake = inbox.withLock { box -> Bool in
            if box.exited { return false }
            box.work.append(work)
            if box.wakePending { return false }
            box.wakePending = true
            return true
        }
        if needsWake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    /// Runs `work` at once when on the loop's thread, else soon on it.
    func executeOrRun(_ work: @escaping @Sendable () -> Void) {
        if inLoop { work() } else { execute(work) }
    }

    // MARK: Registration (loop thread only)

    func register(_ fd: Int32, handler: EventHandler, readable: Bool, writable: Bool) throws(TransportError) {
        nextGeneration &+= 1
        let registration = Registration(handler: handler, generation: nextGeneration, readable: readable, writable: writable)
        var event = makeEvent(fd: fd, registration: registration)
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw .system(call: "epoll_ctl(ADD)", errno: errno) }
        registrations[fd] = registration
    }

    func setInterest(_ fd: Int32, readable: Bool, writable: Bool) {
        guard var registration = registrations[fd] else { return }
        guard registration.readable != readable || registration.writable != writable else { return }
        registration.readable = readable
        registration.writable = writable
        registrations[fd] = registration
        var event = makeEvent(fd: fd, registration: registration)
        epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    func deregister(_ fd: Int32) {
        guard registrations.removeValue(forKey: fd) != nil else { return }
        var event = epoll_event()
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    /// The number of descriptors registered (loop thread only).
    var registeredCount: Int { registrations.count }

    private func makeEvent(fd: Int32, registration: Registration) -> epoll_event {
        var event = epoll_event()
        var mask = EPOLLRDHUP.rawValue
        if registration.readable { mask |= EPOLLIN.rawValue }
        if registration.writable { mask |= EPOLLOUT.rawValue }
        event.events = mask
        event.data.u64 = UInt64(UInt32(bitPattern: fd)) | (UInt64(registration.generation) << 32)
        return event
    }

    // MARK: Timers (loop thread only)

    /// Runs `body` on the loop after `delay`.
    @discardableResult
    func schedule(after delay: Duration, _ body: @escaping () -> Void) -> LoopTimer {
        timers.schedule(deadline: monotonicNanos() &+ delay.nanoseconds, body)
    }

    /// Runs `body` on the loop at a monotonic deadline in nanoseconds.
    @discardableResult
    func schedule(atNanos deadline: UInt64, _ body: @escaping () -> Void) -> LoopTimer {
        timers.schedule(deadline: deadline, body)
    }

    // MARK: The loop

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            var timeout: Int32 = -1
            if let deadline = timers.earliestDeadline {
                let now = monotonicNanos()
                timeout = deadline <= now ? 0 : Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
            }
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            if count < 0 {
                let code = errno
                // The descriptor is this loop's until it is deallocated: a failure here means something in
                // the process closed or replaced it (a double close elsewhere). Going on quietly would leave
                // every session on this loop waiting for good.
                guard code == EINTR else {
                    fatalError("event loop \(index): epoll_wait failed: \(String(cString: strerror(code))) (errno \(code)); its descriptor was closed by something else in the process")
                }
            }
            var woken = false
            for i in 0..<Int(max(count, 0)) {
                let event = events[i]
                let tag = event.data.u64
                if tag == UInt64.max {
                    woken = true
                    continue
                }
                let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: tag))
                let generation = UInt32(truncatingIfNeeded: tag >> 32)
                guard let registration = registrations[fd], registration.generation == generation else { continue }
                let mask = event.events
                registration.handler.handleEvent(
                    readable: mask & (EPOLLIN.rawValue | EPOLLERR.rawValue) != 0,
                    writable: mask & (EPOLLOUT.rawValue | EPOLLERR.rawValue) != 0,
                    hangup: mask & (EPOLLHUP.rawValue | EPOLLRDHUP.rawValue | EPOLLERR.rawValue) != 0)
            }
            if !timers.isEmpty {
                let due = timers.takeDue(now: monotonicNanos())
                for timer in due { timer.fire() }
                timers.dropCancelledHead()
            }
            if woken {
                var value: UInt64 = 0
                _ = Glibc.read(wakeFD, &value, 8)
            }
            let (work, stopped) = inbox.withLock { box -> ([@Sendable () -> Void], Bool) in
                let taken = box.work
                box.work.removeAll(keepingCapacity: true)
                box.wakePending = false
                return (taken, box.stopped)
            }
            for item in work { item() }
            if stopped { break }
        }
        // The descriptors stay open until the loop is deallocated: a late `execute` from another thread
        // must never write to a descriptor number the process has since given to something else.
        inbox.withLock { box in
            box.exited = true
            box.work.removeAll()
        }
        // Handlers and timers hold what holds this loop: let them go, so that the loop can be deallocated.
        registrations.removeAll()
        timers = TimerHeap()
        finishedCondition.lock()
        finished.withLock { $0 = true }
        finishedCondition.broadcast()
        finishedCondition.unlock()
    }

    deinit {
        Glibc.close(epollFD)
        Glibc.close(wakeFD)
        readBuffer.deallocate()
    }

    /// Stops the loop after the work already submitted and waits for its thread to end.
    /// Registered sockets are left to their owners; call this last.
    public func shutdown() {
        inbox.withLock { $0.stopped = true }
        execute {}
        guard !inLoop else { return }
        finishedCondition.lock()
        while !finished.withLock({ $0 }) { finishedCondition.wait() }
        finishedCondition.unlock()
    }
}

/// A few event loops (at most one per core, four by default at most) sharing the work round-robin.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)

    /// Starts `threads` loops (clamped to 1...8).
    public init(threads: Int = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))) throws(TransportError) {
        var made: [EventLoop] = []
        for index in 0..<min(8, max(1, threads)) { made.append(try EventLoop(index: index)) }
        loops = made
    }

    /// The next loop, round-robin.
    public func next() -> EventLoop {
        let n = cursor.add(1, ordering: .relaxed).oldValue
        return loops[n % loops.count]
    }

    /// Stops every loop.
    public func shutdown() { for loop in loops { loop.shutdown() } }
}

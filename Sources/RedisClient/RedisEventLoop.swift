import CHiredis
import Foundation
import Glibc
import Synchronization

/// The one thread that does every Redis client's socket I/O in this process: non-blocking hiredis
/// contexts watched by epoll. Callers hand it work with `execute`; everything a `RedisLink` owns is
/// touched only on this thread. Pipelines that arrive together for one connection are written with one
/// `write`, and one `epoll_wait` serves every ready connection, so a busy process pays few thread wake-ups
/// per pipeline.
final class RedisEventLoop: @unchecked Sendable {
    /// The loop shared by every `RedisClient` of the process (started on first use).
    static let shared = RedisEventLoop()

    private struct Inbox {
        var jobs: [@Sendable () -> Void] = []
        var wakePending = false
    }

    private let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = Mutex(Inbox())

    // Loop-thread state.
    /// Where every link receives into before feeding its hiredis reader (one loop thread, one buffer).
    let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
    private var links: [UInt64: RedisLink] = [:]
    private var nextToken: UInt64 = 1
    private var dirtyLinks: [RedisLink] = []
    /// Pipelines whose replies are all in, resumed once this turn's writes are out.
    private var completedRequests: [RedisRequest] = []
    /// When the next command-timeout check is due (monotonic nanoseconds; `.max` when nothing is in flight).
    private var nextTimeoutCheck: UInt64 = .max

    private init() {
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        let wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        precondition(ep >= 0 && wake >= 0, "cannot create the Redis event loop (errno \(errno))")
        epollFD = ep
        wakeFD = wake
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = 0
        epoll_ctl(ep, EPOLL_CTL_ADD, wake, &event)
        let thread = Thread { [self] in run() }
        thread.name = "redis-io"
        thread.start()
    }

    /// Runs `job` on the loop's thread soon (jobs run in the order they were handed in).
    func execute(_ job: @escaping @Sendable () -> Void) {
        let needsWake = inbox.withLock { box -> Bool in
            box.jobs.append(job)
            if box.wakePending { return false }
            box.wakePending = true
            return true
        }
        if needsWake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    // MARK: Loop-thread API for links

    /// Watches `fd` for `link`; returns the token that names this registration.
    func register(_ link: RedisLink, fd: Int32) -> UInt64 {
        let token = nextToken
        nextToken += 1
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.u64 = token
        epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
        links[token] = link
        return token
    }

    /// Asks for (or stops asking for) writability of a registered descriptor.
    func setWriteInterest(_ writable: Bool, fd: Int32, token: UInt64) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        event.data.u64 = token
        epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Stops watching `fd` (before its context is freed).
    func deregister(fd: Int32, token: UInt64) {
        var event = epoll_event()
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
        links[token] = nil
    }

    /// Flushes `link`'s output once the current batch of jobs has run.
    func markDirty(_ link: RedisLink) {
        dirtyLinks.append(link)
    }

    /// Resumes `request`'s caller at the end of this turn of the loop, after the turn's writes, so the
    /// server gets its next work before the loop's thread yields the core to resumed callers.
    func completed(_ request: RedisRequest) {
        completedRequests.append(request)
    }

    /// Makes sure a timeout check happens by `deadline`.
    func expectTimeoutCheck(by deadline: UInt64) {
        if deadline < nextTimeoutCheck { nextTimeoutCheck = deadline }
    }

    // MARK: The loop

    private func run() {
        let capacity = 128
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            let count = epoll_wait(epollFD, events, Int32(capacity), waitTimeout())
            if count < 0 {
                if errno == EINTR { continue }
                preconditionFailure("epoll_wait failed in the Redis event loop (errno \(errno))")
            }
            var jobsReady = false
            for index in 0..<Int(count) {
                let token = events[index].data.u64
                let mask = events[index].events
                if token == 0 {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeFD, &value, 8)
                    jobsReady = true
                } else if let link = links[token] {
                    link.handle(
                        readable: mask & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0,
                        writable: mask & EPOLLOUT.rawValue != 0
                    )
                }
            }
            if jobsReady {
                let jobs = inbox.withLock { box -> [@Sendable () -> Void] in
                    box.wakePending = false
                    let jobs = box.jobs
                    box.jobs.removeAll(keepingCapacity: true)
                    return jobs
                }
                for job in jobs { job() }
            }
            flushDirtyLinks()
            if !completedRequests.isEmpty {
                let completed = completedRequests
                completedRequests.removeAll(keepingCapacity: true)
                for request in completed { request.resume() }
            }
            if nextTimeoutCheck != .max, monotonicNanoseconds() >= nextTimeoutCheck {
                checkTimeouts()
            }
        }
    }

    private func flushDirtyLinks() {
        while !dirtyLinks.isEmpty {
            let batch = dirtyLinks
            dirtyLinks.removeAll(keepingCapacity: true)
            for link in batch { link.flush() }
        }
    }

    private func checkTimeouts() {
        let now = monotonicNanoseconds()
        var next = UInt64.max
        for link in Array(links.values) {
            if let deadline = link.checkTimeout(now: now) {
                next = min(next, deadline)
            }
        }
        nextTimeoutCheck = next
    }

    /// Milliseconds until the next timeout check, or -1 to sleep until an event.
    private func waitTimeout() -> Int32 {
        guard nextTimeoutCheck != .max else { return -1 }
        let now = monotonicNanoseconds()
        guard nextTimeoutCheck > now else { return 0 }
        return Int32(min((nextTimeoutCheck - now + 999_999) / 1_000_000, 60_000))
    }
}

/// The monotonic clock in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

import Foundation

/// A dedicated OS thread that runs submitted blocking jobs one at a time, in order, so that blocking
/// hiredis calls never occupy a thread of Swift's cooperative pool. Callers `await` the job's result.
public final class ConnectionThread: Sendable {
    private let queue: JobQueue

    public init(name: String) {
        let queue = JobQueue()
        self.queue = queue
        let thread = Thread { queue.drain() }
        thread.name = name
        thread.start()
    }

    deinit {
        queue.finish()
    }

    /// Runs `job` on the thread and returns its result; throws `closedError` if the thread has stopped.
    public func run<T: Sendable>(
        closedError: @escaping @autoclosure @Sendable () -> any Error,
        _ job: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = queue.enqueue {
                continuation.resume(with: Result { try job() })
            }
            if !accepted {
                continuation.resume(throwing: closedError())
            }
        }
    }

    /// Queues `job` without waiting for it (used for the final close).
    public func submit(_ job: @escaping @Sendable () -> Void) {
        _ = queue.enqueue(job)
    }

    /// Lets the queued jobs run, then stops the thread.
    public func finish() {
        queue.finish()
    }
}

/// The jobs waiting for a `ConnectionThread`, guarded by a condition variable.
private final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var finished = false

    func enqueue(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if finished { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    func drain() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished {
                condition.wait()
            }
            if jobs.isEmpty && finished {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch {
                job()
            }
        }
    }
}

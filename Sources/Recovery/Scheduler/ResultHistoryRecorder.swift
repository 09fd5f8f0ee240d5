import Foundation
import Logging
import RecoveryCore
import Synchronization

/// Hands the results the scheduler receives to `ResultHistory` in batches, off the consumer's path: the
/// console's history must never slow acknowledging results. Bounded: past `capacity` waiting results the
/// oldest are dropped (the history is a view, not a record anything depends on).
final class ResultHistoryRecorder: Sendable {
    private let history: ResultHistory
    private let logger: Logger
    private let capacity: Int
    private let waiting = Mutex<[(result: JobResult, receivedAt: Date)]>([])
    static let flushInterval = Duration.milliseconds(250)

    init(history: ResultHistory, logger: Logger, capacity: Int = 10_000) {
        self.history = history
        self.logger = logger
        self.capacity = capacity
    }

    func add(_ result: JobResult, receivedAt: Date = Date()) {
        waiting.withLock { waiting in
            if waiting.count >= capacity { waiting.removeFirst(waiting.count - capacity + 1) }
            waiting.append((result, receivedAt))
        }
    }

    /// Flushes every `flushInterval` until cancelled, then once more.
    func run() async {
        var failing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.flushInterval)
            failing = await flush(failing: failing)
        }
        _ = await flush(failing: failing)
    }

    /// Writes what waits; returns whether the write failed (a failure is logged once until one succeeds).
    func flush(failing: Bool) async -> Bool {
        let batch = waiting.withLock { waiting in
            defer { waiting.removeAll(keepingCapacity: true) }
            return waiting
        }
        guard !batch.isEmpty else { return failing }
        do {
            try await history.record(batch)
            if failing { logger.notice("result history is written again") }
            return false
        } catch {
            if !failing {
                logger.warning("result history not written (the console's recent results miss these)", metadata: ["results": "\(batch.count)", "error": "\(error)"])
            }
            return true
        }
    }
}

import CoreMetrics
import Foundation
import RecoveryCore
import Prometheus
import Synchronization

/// Every metric the pool exports, by name, here and in the two roles' groups (the README's metrics
/// reference lists them).
/// Backed by a Prometheus registry of its own so that tests and processes do not share global state.
public struct PoolMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// What only a scheduler records.
    public let scheduler: SchedulerMetrics
    /// What only a worker records.
    public let worker: WorkerMetrics
    /// `mcp_recovery_log_lines_dropped_total`: log lines dropped because the log reader did not keep up
    /// (`LogSink`), brought up to the sink's count at each scrape.
    private let droppedLogLines: FollowingCounter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.factory = factory
        scheduler = SchedulerMetrics(factory: factory)
        worker = WorkerMetrics(factory: factory)
        droppedLogLines = FollowingCounter(Counter(label: "mcp_recovery_log_lines_dropped_total", factory: factory))
    }

    /// The Prometheus text exposition of everything recorded so far.
    public func exposition() -> [UInt8] {
        droppedLogLines.catchUp(to: LogSink.standardError.droppedLines)
        return registry.emitToBuffer()
    }

    // MARK: both roles

    /// `mcp_recovery_jobs_enqueued_total{reason}`: jobs published with a confirm.
    public func jobEnqueued(reason: String, count: Int = 1) {
        Counter(label: "mcp_recovery_jobs_enqueued_total", dimensions: [("reason", reason)], factory: factory).increment(by: count)
    }

    /// `mcp_recovery_dead_lettered_total`: jobs that ended in the dead-letter queue.
    public func deadLettered(count: Int = 1) {
        Counter(label: "mcp_recovery_dead_lettered_total", factory: factory).increment(by: count)
    }
}

/// A counter that follows a count kept elsewhere: raised by the difference each time it is told the count.
final class FollowingCounter: Sendable {
    private let counter: CoreMetrics.Counter
    private let exported = Mutex(0)

    init(_ counter: CoreMetrics.Counter) {
        self.counter = counter
    }

    func catchUp(to count: Int) {
        let difference = exported.withLock { exported in
            defer { exported = max(exported, count) }
            return max(0, count - exported)
        }
        if difference > 0 { counter.increment(by: difference) }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

import CoreMetrics
import Foundation
import RecoveryCore
import Prometheus

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
    }

    /// The Prometheus text exposition of everything recorded so far.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

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

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

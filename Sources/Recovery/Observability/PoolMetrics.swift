import CoreMetrics
import Foundation
import RecoveryCore
import Prometheus

/// Every metric the pool exports, by name, in one place (the README's metrics reference lists them).
/// Backed by a Prometheus registry of its own so that tests and processes do not share global state.
public struct PoolMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.factory = factory
    }

    /// The Prometheus text exposition of everything recorded so far.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: scheduler

    /// `mcp_recovery_jobs_enqueued_total{reason}`: jobs published with a confirm.
    public func jobEnqueued(reason: String, count: Int = 1) {
        Counter(label: "mcp_recovery_jobs_enqueued_total", dimensions: [("reason", reason)], factory: factory).increment(by: count)
    }

    /// `mcp_recovery_results_total{outcome}`: results consumed by the scheduler.
    public func resultReceived(outcome: String) {
        Counter(label: "mcp_recovery_results_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// `mcp_recovery_missing_endpoints`: enabled endpoints with no live session, last cycle.
    public func missingEndpoints(_ value: Int) {
        Gauge(label: "mcp_recovery_missing_endpoints", factory: factory).record(value)
    }

    /// `mcp_recovery_cycle_duration_seconds`: one reconcile cycle, read to publish.
    public func cycleDuration(_ duration: Duration) {
        Timer(label: "mcp_recovery_cycle_duration_seconds", factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    /// `mcp_recovery_queue_depth{queue}`: ready messages per queue, as the broker reports them.
    public func queueDepth(queue: String, messages: Int) {
        Gauge(label: "mcp_recovery_queue_depth", dimensions: [("queue", queue)], factory: factory).record(messages)
    }

    /// `mcp_recovery_success_ratio`: recovered / (recovered + retrying + dead), over the scheduler's life.
    public func successRatio(_ ratio: Double) {
        Gauge(label: "mcp_recovery_success_ratio", factory: factory).record(ratio)
    }

    /// `mcp_recovery_dead_lettered_total`: jobs that ended in the dead-letter queue.
    public func deadLettered(count: Int = 1) {
        Counter(label: "mcp_recovery_dead_lettered_total", factory: factory).increment(by: count)
    }

    /// `mcp_recovery_stops_sent_total`: stop commands sent to workers for disabled or deleted endpoints.
    public func stopSent() {
        Counter(label: "mcp_recovery_stops_sent_total", factory: factory).increment()
    }

    /// `mcp_recovery_capacity_slots`, `mcp_recovery_enabled_endpoints`, `mcp_recovery_capacity_shortfall`,
    /// `mcp_recovery_workers_live`: the cluster's session slots against its enabled endpoints, last cycle.
    public func capacity(_ capacity: ClusterCapacity) {
        Gauge(label: "mcp_recovery_capacity_slots", factory: factory).record(capacity.slots)
        Gauge(label: "mcp_recovery_enabled_endpoints", factory: factory).record(capacity.enabled)
        Gauge(label: "mcp_recovery_capacity_shortfall", factory: factory).record(capacity.shortfall)
        Gauge(label: "mcp_recovery_workers_live", factory: factory).record(capacity.workers)
    }

    /// `mcp_recovery_is_leader`: 1 while this scheduler holds the leader lease.
    public func isLeader(_ leader: Bool) {
        Gauge(label: "mcp_recovery_is_leader", factory: factory).record(leader ? 1 : 0)
    }

    // MARK: worker

    /// `mcp_recovery_sessions_held`: live Xiaozhi sessions on this worker.
    public func sessionsHeld(_ value: Int) {
        Gauge(label: "mcp_recovery_sessions_held", factory: factory).record(value)
    }

    /// `mcp_recovery_jobs_processed_total{outcome}`: jobs this worker settled, by outcome.
    public func jobProcessed(outcome: String) {
        Counter(label: "mcp_recovery_jobs_processed_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// `mcp_recovery_connect_duration_seconds`: lease to open session, for recovered jobs.
    public func connectDuration(_ duration: Duration) {
        Timer(label: "mcp_recovery_connect_duration_seconds", factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    /// `mcp_recovery_sessions_lost_total{cause}`: sessions that ended without being asked to.
    public func sessionLost(cause: String) {
        Counter(label: "mcp_recovery_sessions_lost_total", dimensions: [("cause", cause)], factory: factory).increment()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

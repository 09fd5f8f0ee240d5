import CoreMetrics
import Prometheus
import RecoveryCore

/// The metrics only a scheduler records, on its `PoolMetrics` registry.
public struct SchedulerMetrics: Sendable {
    let factory: PrometheusMetricsFactory

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

    /// `mcp_recovery_stops_sent_total`: stop commands sent to workers for disabled or deleted endpoints.
    public func stopSent() {
        Counter(label: "mcp_recovery_stops_sent_total", factory: factory).increment()
    }

    /// `mcp_recovery_vanished_jobs_total`: jobs that left the jobs queue with no worker receiving them.
    public func vanishedJobs(_ count: Int) {
        Counter(label: "mcp_recovery_vanished_jobs_total", factory: factory).increment(by: count)
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
}

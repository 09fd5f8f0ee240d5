import CoreMetrics
import Prometheus
import RecoveryCore

/// The metrics only a worker records, on its `PoolMetrics` registry.
public struct WorkerMetrics: Sendable {
    let factory: PrometheusMetricsFactory

    /// `mcp_recovery_sessions_held`: live Xiaozhi sessions on this worker.
    public func sessionsHeld(_ value: Int) {
        Gauge(label: "mcp_recovery_sessions_held", factory: factory).record(value)
    }

    /// `mcp_recovery_worker_shedding_jobs`: 1 while this worker takes no jobs because its lease renewals
    /// are confirmed late (an overloaded machine), else 0.
    public func sheddingJobs(_ shedding: Bool) {
        Gauge(label: "mcp_recovery_worker_shedding_jobs", factory: factory).record(shedding ? 1 : 0)
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

import CoreMetrics
import Prometheus
import Testing
@testable import Recovery

@Suite struct PoolMetricsTests {
    @Test func countersAndGaugesAppearInThePrometheusText() {
        let metrics = PoolMetrics()
        metrics.jobEnqueued(reason: "missing", count: 3)
        metrics.jobEnqueued(reason: "missing")
        metrics.scheduler.resultReceived(outcome: "recovered")
        metrics.worker.sessionsHeld(7)
        metrics.scheduler.cycleDuration(.milliseconds(12))
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"mcp_recovery_jobs_enqueued_total{reason="missing"} 4"#))
        #expect(text.contains(#"mcp_recovery_results_total{outcome="recovered"} 1"#))
        #expect(text.contains("mcp_recovery_sessions_held 7"))
        #expect(text.contains("mcp_recovery_cycle_duration_seconds_count 1"))
    }

    @Test func registriesDoNotShareValues() {
        let a = PoolMetrics(), b = PoolMetrics()
        a.deadLettered()
        #expect(String(decoding: a.exposition(), as: UTF8.self).contains("mcp_recovery_dead_lettered_total 1"))
        #expect(!String(decoding: b.exposition(), as: UTF8.self).contains("mcp_recovery_dead_lettered_total 1"))
    }

    @Test func droppedLogLinesAreExportedFromTheStart() {
        let text = String(decoding: PoolMetrics().exposition(), as: UTF8.self)
        #expect(text.contains("mcp_recovery_log_lines_dropped_total "))
    }

    /// The dropped-lines counter follows the log sink's count: raised by the difference, never lowered.
    @Test func aFollowingCounterRisesByTheDifference() {
        let registry = PrometheusCollectorRegistry()
        let counter = FollowingCounter(Counter(label: "followed_total", factory: PrometheusMetricsFactory(registry: registry)))
        var seen: [String] = []
        for count in [0, 5, 3, 8, 8] {
            counter.catchUp(to: count)
            let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            seen.append(text.split(separator: "\n").first { $0.hasPrefix("followed_total ") }.map(String.init) ?? "")
        }
        #expect(seen == ["followed_total 0", "followed_total 5", "followed_total 5", "followed_total 8", "followed_total 8"])
    }
}

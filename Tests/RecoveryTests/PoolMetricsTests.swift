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
}

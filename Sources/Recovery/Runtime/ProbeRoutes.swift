import AMQPClient
import Foundation
import Logging
import PostgresClient
import RecoveryCore
import RedisClient

/// The routes of a process's probe server: `/metrics`, `/healthz` (the process is alive) and `/readyz`
/// (it can reach every server it needs right now).
public enum ProbeRoutes {
    /// One dependency `/readyz` checks: its name (all a client is told) and the check (whose error goes
    /// to the log only, since it may name hosts and users).
    public struct ReadinessCheck: Sendable {
        public var name: String
        public var run: @Sendable () async throws -> Void

        public init(name: String, run: @escaping @Sendable () async throws -> Void) {
            self.name = name
            self.run = run
        }
    }

    public static func make(
        metrics: PoolMetrics, redis: RedisClient, postgres: PostgresClient?, amqp: AMQPConnection, queue: String
    ) -> [String: ProbeServer.Route] {
        var checks = [ReadinessCheck(name: "redis") { _ = try await redis.send("PING") }]
        if let postgres {
            checks.append(ReadinessCheck(name: "postgres") { _ = try await postgres.query("SELECT 1") })
        }
        checks.append(ReadinessCheck(name: "rabbitmq") { _ = try await amqp.inspectQueue(queue) })
        let readinessChecks = checks
        return [
            "/metrics": { ProbeResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition()) },
            "/healthz": { ProbeResponse(status: 200, text: "ok\n") },
            "/readyz": { await readiness(readinessChecks) },
        ]
    }

    /// Runs every check at once (one silent server costs its own timeout, not the sum of all) and answers
    /// 200, or 503 naming the failing dependencies only; their errors go in the log detail.
    public static func readiness(_ checks: [ReadinessCheck]) async -> ProbeResponse {
        let failures = await withTaskGroup(of: (Int, String?).self) { group -> [(Int, String)] in
            for (index, check) in checks.enumerated() {
                group.addTask {
                    do {
                        try await check.run()
                        return (index, nil)
                    } catch {
                        return (index, "\(error)")
                    }
                }
            }
            var failed: [(Int, String)] = []
            for await (index, error) in group {
                if let error { failed.append((index, error)) }
            }
            return failed.sorted { $0.0 < $1.0 }
        }
        guard !failures.isEmpty else { return ProbeResponse(status: 200, text: "ready\n") }
        let names = failures.map { checks[$0.0].name }
        return ProbeResponse(
            status: 503, text: "not ready: " + names.joined(separator: ", ") + "\n",
            logDetail: failures.map { "\(checks[$0.0].name): \($0.1)" }.joined(separator: "; "))
    }
}

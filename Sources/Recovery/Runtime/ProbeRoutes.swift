import AMQPClient
import Foundation
import Logging
import PostgresClient
import RecoveryCore
import RedisClient

/// The routes of a process's probe server: `/metrics`, `/healthz` (the process is alive) and `/readyz`
/// (it can reach every server it needs right now).
public enum ProbeRoutes {
    public static func make(
        metrics: PoolMetrics, redis: RedisClient, postgres: PostgresClient?, amqp: AMQPConnection, queue: String
    ) -> [String: ProbeServer.Route] {
        [
            "/metrics": { ProbeResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition()) },
            "/healthz": { ProbeResponse(status: 200, text: "ok\n") },
            "/readyz": {
                var problems: [String] = []
                do { _ = try await redis.send("PING") } catch { problems.append("redis: \(error)") }
                if let postgres {
                    do { _ = try await postgres.query("SELECT 1") } catch { problems.append("postgres: \(error)") }
                }
                do { _ = try await amqp.inspectQueue(queue) } catch { problems.append("rabbitmq: \(error)") }
                return problems.isEmpty
                    ? ProbeResponse(status: 200, text: "ready\n")
                    : ProbeResponse(status: 503, text: problems.joined(separator: "\n") + "\n")
            },
        ]
    }
}

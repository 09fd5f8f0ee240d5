import Foundation
import RecoveryCore

/// `scheduler workers`: every worker in the registry, live or not yet pruned, and how to print them.
public struct WorkerListing: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var record: WorkerRecord
        /// Whether its liveness key exists (it wrote a heartbeat within three heartbeat intervals).
        public var live: Bool
    }

    public var rows: [Row]
    public var takenAt: Date

    public init(registry: WorkerRegistry, takenAt: Date) {
        rows = registry.records.sorted { $0.key < $1.key }.map { Row(record: $0.value, live: registry.liveness[$0.key] == true) }
        self.takenAt = takenAt
    }

    /// The aligned table: INSTANCE HOST PID METRICS LIVE SESSIONS CAPACITY HEARTBEAT STARTED VERSION.
    public func table() -> String {
        var table = OperatorTable(headers: ["INSTANCE", "HOST", "PID", "METRICS", "LIVE", "SESSIONS", "CAPACITY", "HEARTBEAT", "STARTED", "VERSION"])
        for row in rows {
            let record = row.record
            table.append([
                record.instanceId, record.host, String(record.pid), record.metricsPort.map(String.init) ?? "-", row.live ? "yes" : "no",
                String(record.sessions), String(record.capacity),
                OperatorFormat.age(from: record.heartbeatAt, to: takenAt) + " ago", OperatorFormat.age(from: record.startedAt, to: takenAt) + " ago",
                record.version ?? "-",
            ])
        }
        return table.rendered()
    }

    /// The totals line under the table: live workers, their sessions and slots.
    public var summary: String {
        let live = rows.filter(\.live).map(\.record)
        return "\(live.count) live workers: \(live.reduce(0) { $0 + $1.sessions }) sessions held of \(live.reduce(0) { $0 + max(0, $1.capacity) }) slots"
            + (rows.count > live.count ? "; \(rows.count - live.count) not live" : "")
    }

    /// A JSON array, one object per worker.
    public func json(pretty: Bool = true) -> String {
        OperatorJSON.render(rows.map { row in
            [
                ("instanceId", .string(row.record.instanceId)), ("host", .string(row.record.host)), ("pid", .int(row.record.pid)),
                ("metricsPort", .optional(row.record.metricsPort)),
                ("live", .bool(row.live)), ("sessions", .int(row.record.sessions)), ("capacity", .int(row.record.capacity)),
                ("heartbeatAt", .time(row.record.heartbeatAt)), ("startedAt", .time(row.record.startedAt)),
                ("version", .optional(row.record.version)),
            ]
        }, pretty: pretty)
    }
}

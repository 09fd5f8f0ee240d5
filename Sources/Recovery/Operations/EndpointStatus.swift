import Foundation
import RecoveryCore

/// One row of `scheduler status`: an endpoint of the table with what Redis says about it.
public struct EndpointStatus: Sendable, Equatable {
    /// What `state` shows when the endpoint is enabled and has no state in Redis.
    public static let missing = "missing"
    /// What `state` shows for a parked endpoint without a live session.
    public static let parked = "parked"
    /// What `state` shows for a stored state that does not decode.
    public static let unreadable = "unreadable"
    /// What `state` shows for a disabled endpoint without a state.
    public static let none = "-"

    public var id: EndpointID
    public var name: String
    public var enabled: Bool
    /// `Connected`, `Disconnected`, `Connecting`, `Failed`, `missing`, `parked`, `unreadable` or `-`.
    public var state: String
    /// The worker holding the session (the state's `InstanceId`).
    public var owner: String?
    public var lastHeartbeat: Date?
    /// The park's reason, when parked.
    public var lastError: String?
    /// When the park ends by itself (transient parks).
    public var parkedUntil: Date?

    public init(id: EndpointID, name: String, enabled: Bool, state: String, owner: String? = nil, lastHeartbeat: Date? = nil, lastError: String? = nil, parkedUntil: Date? = nil) {
        self.id = id
        self.name = name
        self.enabled = enabled
        self.state = state
        self.owner = owner
        self.lastHeartbeat = lastHeartbeat
        self.lastError = lastError
        self.parkedUntil = parkedUntil
    }

    /// Combines the table's rows with the Redis readings, one status per row in the rows' order.
    /// A parked endpoint shows `parked` unless its state says a session is up or opening.
    public static func combine(rows: [EndpointStatusRow], readings: EndpointStateReadings, parkPeriod: TimeInterval) -> [EndpointStatus] {
        rows.map { row in
            var status = EndpointStatus(id: row.id, name: row.name, enabled: row.isEnabled, state: row.isEnabled ? missing : none)
            let park = readings.parked[row.id]
            switch readings.states[row.id] ?? .absent {
            case .absent:
                break
            case .unreadable:
                status.state = unreadable
            case .decoded(let state, _):
                status.state = state.status.name
                status.owner = state.instanceId.isEmpty ? nil : state.instanceId
                status.lastHeartbeat = state.lastHeartbeat
            }
            if let park {
                status.lastError = park.reason
                if park.kind == .transient { status.parkedUntil = park.until ?? park.parkedAt.addingTimeInterval(parkPeriod) }
                if !(status.state == ConnectionStatus.connected.name || status.state == ConnectionStatus.connecting.name) {
                    status.state = parked
                }
            }
            return status
        }
    }
}

/// The rows of `scheduler status` and how to print them.
public struct EndpointStatusReport: Sendable, Equatable {
    public var rows: [EndpointStatus]
    public var takenAt: Date
    /// The live workers' slots against the enabled endpoints, when the worker registry was read.
    public var capacity: ClusterCapacity?

    public init(rows: [EndpointStatus], takenAt: Date, capacity: ClusterCapacity? = nil) {
        self.rows = rows
        self.takenAt = takenAt
        self.capacity = capacity
    }

    /// The aligned table: ID NAME ENABLED STATE OWNER HEARTBEAT LAST ERROR.
    public func table() -> String {
        var table = OperatorTable(headers: ["ID", "NAME", "ENABLED", "STATE", "OWNER", "HEARTBEAT", "LAST ERROR"])
        for row in rows {
            table.append([
                row.id.rawValue, row.name, row.enabled ? "yes" : "no", row.state, row.owner ?? "-",
                row.lastHeartbeat.map { OperatorFormat.age(from: $0, to: takenAt) + " ago" } ?? "-",
                row.lastError.map { OperatorFormat.excerpt($0) } ?? "-",
            ])
        }
        return table.rendered()
    }

    /// A JSON array, one object per endpoint.
    public func json(pretty: Bool = true) -> String {
        OperatorJSON.render(rows.map { row in
            [
                ("id", .string(row.id.rawValue)), ("name", .string(row.name)), ("enabled", .bool(row.enabled)),
                ("state", .string(row.state)), ("owner", .optional(row.owner)), ("lastHeartbeat", .time(row.lastHeartbeat)),
                ("lastError", .optional(row.lastError)), ("parkedUntil", .time(row.parkedUntil)),
            ]
        }, pretty: pretty)
    }
}

/// Reads `scheduler status`: the table's rows, then one pipelined Redis read.
public struct EndpointStatusReader: Sendable {
    public let directory: any EndpointDirectory
    public let store: RedisPoolState
    public let parkPeriod: TimeInterval

    public init(directory: any EndpointDirectory, store: RedisPoolState, parkPeriod: TimeInterval) {
        self.directory = directory
        self.store = store
        self.parkPeriod = parkPeriod
    }

    public func read(now: Date = Date()) async throws -> EndpointStatusReport {
        let rows = try await directory.statusRows()
        let readings = try await store.operatorView.statusReadings(endpointIds: rows.map(\.id))
        let capacity = ClusterCapacity(liveWorkers: try await store.workers.registry().liveWorkers, enabled: rows.filter(\.isEnabled).count)
        return EndpointStatusReport(
            rows: EndpointStatus.combine(rows: rows, readings: readings, parkPeriod: parkPeriod), takenAt: now, capacity: capacity)
    }
}

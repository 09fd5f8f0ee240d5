import Foundation
import RecoveryCore

/// The depth of one queue of the topology, as `scheduler queues` prints it; nil means unknown.
public struct QueueDepth: Sendable, Equatable {
    /// What a queue is for.
    public enum Role: String, Sendable, Equatable {
        case jobs, retry, dead, results
        /// The scheduler's copy of the dead letters (`Topology.deadWatchQueue`).
        case watch
        /// A worker's control queue (exclusive to its connection; seen through the management API only).
        case control
    }

    public var name: String
    public var role: Role
    /// False when the queue is not declared (nothing has started against this prefix yet).
    public var exists: Bool
    /// Messages ready for delivery (AMQP passive declare).
    public var ready: Int?
    /// Delivered, not yet acknowledged (management API only).
    public var unacknowledged: Int?
    public var consumers: Int?
    /// Dead queue only: every dead-lettered message (ready plus unacknowledged when known).
    public var deadLettered: Int?
    /// When the oldest message was enqueued (dead queue: its head's `x-recovery-died-at`), where known.
    public var oldestAt: Date?
    /// The worker a control queue belongs to.
    public var worker: String?

    public init(name: String, role: Role, exists: Bool = true, ready: Int? = nil, unacknowledged: Int? = nil, consumers: Int? = nil, deadLettered: Int? = nil, oldestAt: Date? = nil) {
        self.name = name
        self.role = role
        self.exists = exists
        self.ready = ready
        self.unacknowledged = unacknowledged
        self.consumers = consumers
        self.deadLettered = deadLettered
        self.oldestAt = oldestAt
    }

    /// The role of each durable queue of `topology`, by name.
    public static func roles(of topology: Topology) -> [(name: String, role: Role)] {
        topology.queueNames.map { name in
            if name == topology.jobsQueue { return (name, .jobs) }
            if name == topology.deadQueue { return (name, .dead) }
            if name == topology.resultsQueue { return (name, .results) }
            if name == topology.deadWatchQueue { return (name, .watch) }
            return (name, .retry)
        }
    }
}

/// Every queue's depth at one moment, and why unacknowledged counts are unknown if they are.
public struct QueueReport: Sendable, Equatable {
    public var queues: [QueueDepth]
    public var takenAt: Date
    /// Set when the management API could not be asked (unacknowledged counts are then unknown).
    public var managementProblem: String?

    public init(queues: [QueueDepth], takenAt: Date, managementProblem: String? = nil) {
        self.queues = queues
        self.takenAt = takenAt
        self.managementProblem = managementProblem
    }

    /// The aligned table: QUEUE ROLE READY UNACKED CONSUMERS DEAD OLDEST (`-` where unknown).
    public func table() -> String {
        var table = OperatorTable(headers: ["QUEUE", "ROLE", "READY", "UNACKED", "CONSUMERS", "DEAD", "OLDEST"])
        for queue in queues {
            guard queue.exists else {
                table.append([queue.name, queue.role.rawValue, "missing", "-", "-", "-", "-"])
                continue
            }
            table.append([
                queue.name, queue.role.rawValue, Self.cell(queue.ready), Self.cell(queue.unacknowledged),
                Self.cell(queue.consumers), Self.cell(queue.deadLettered),
                queue.oldestAt.map { OperatorFormat.age(from: $0, to: takenAt) } ?? "-",
            ])
        }
        return table.rendered()
    }

    /// A JSON array, one object per queue.
    public func json(pretty: Bool = true) -> String {
        OperatorJSON.render(queues.map { queue in
            [
                ("name", .string(queue.name)), ("role", .string(queue.role.rawValue)), ("exists", .bool(queue.exists)),
                ("ready", .optional(queue.ready)), ("unacked", .optional(queue.unacknowledged)),
                ("consumers", .optional(queue.consumers)), ("deadLettered", .optional(queue.deadLettered)),
                ("oldestAt", .time(queue.oldestAt)),
                ("oldestAgeSeconds", queue.oldestAt.map { .int(max(0, Int(takenAt.timeIntervalSince($0)))) } ?? .null),
                ("worker", .optional(queue.worker)),
            ]
        }, pretty: pretty)
    }

    static func cell(_ value: Int?) -> String { value.map(String.init) ?? "-" }
}

/// The cluster's session capacity against its enabled endpoints: the sum of the live workers' slots
/// (`Worker:MaxSessions` each). Enabled endpoints beyond it cannot all be held, whatever the scheduler does.
public struct ClusterCapacity: Sendable, Equatable, Codable {
    /// Live workers.
    public let workers: Int
    /// Their slots, summed.
    public let slots: Int
    /// Enabled endpoints.
    public let enabled: Int

    public init(workers: Int, slots: Int, enabled: Int) {
        self.workers = workers
        self.slots = slots
        self.enabled = enabled
    }

    public init(liveWorkers: [WorkerRecord], enabled: Int) {
        self.init(workers: liveWorkers.count, slots: liveWorkers.reduce(0) { $0 + max(0, $1.capacity) }, enabled: enabled)
    }

    /// Enabled endpoints that cannot be held: zero while the slots suffice.
    public var shortfall: Int { max(0, enabled - slots) }

    public var isExceeded: Bool { shortfall > 0 }

    /// One line for the log and the CLI.
    public var summary: String {
        "enabled=\(enabled) slots=\(slots) workers=\(workers) shortfall=\(shortfall)"
    }

    /// The line `scheduler check` and `status` print.
    public var operatorLine: String {
        "capacity: \(summary)" + (isExceeded ? " (exceeded: add workers or raise Worker:MaxSessions)" : "")
    }
}

extension ClusterCapacity {
    private enum CodingKeys: String, CodingKey {
        case workers, slots, enabled, shortfall
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            workers: try container.decode(Int.self, forKey: .workers), slots: try container.decode(Int.self, forKey: .slots),
            enabled: try container.decode(Int.self, forKey: .enabled))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(workers, forKey: .workers)
        try container.encode(slots, forKey: .slots)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(shortfall, forKey: .shortfall)
    }
}

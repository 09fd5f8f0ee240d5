import JSON

/// The cluster's session capacity against its enabled endpoints: the sum of the live workers' slots
/// (`Worker:MaxSessions` each). Enabled endpoints beyond it cannot all be held, whatever the scheduler does.
public struct ClusterCapacity: Sendable, Equatable {
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
    /// `{"enabled","shortfall","slots","workers"}`.
    var jsonValue: JSONValue {
        .object([
            "enabled": .integer(enabled), "shortfall": .integer(shortfall), "slots": .integer(slots), "workers": .integer(workers),
        ])
    }

    /// A capacity read back from its JSON; nil when a count is missing or not an integer.
    init?(json: JSONValue) {
        guard let workers = json["workers"]?.intValue, let slots = json["slots"]?.intValue, let enabled = json["enabled"]?.intValue else {
            return nil
        }
        self.init(workers: workers, slots: slots, enabled: enabled)
    }
}

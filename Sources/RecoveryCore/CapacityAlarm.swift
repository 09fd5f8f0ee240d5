import Foundation

/// When to say that enabled endpoints exceed the cluster's capacity: once it has held for two cycles in a
/// row (a scheduler starting before its workers is not an alarm), again whenever the shortfall grows or a
/// reminder interval has passed, and once more when it is over. Events in (a cycle's capacity), actions out.
public struct CapacityAlarm: Sendable {
    public enum Action: Sendable, Equatable {
        /// Capacity is exceeded: said for the first time, or again.
        case raise(ClusterCapacity)
        /// Enough capacity again after an alarm.
        case clear(ClusterCapacity)
    }

    /// How long a lasting shortfall goes unrepeated.
    public let reminderInterval: TimeInterval
    private var exceededCycles = 0
    private var raised: (at: Date, shortfall: Int)?

    public init(reminderInterval: TimeInterval = 600) {
        self.reminderInterval = reminderInterval
    }

    /// Whether an alarm is raised now.
    public var isRaised: Bool { raised != nil }

    public mutating func observe(_ capacity: ClusterCapacity, now: Date) -> Action? {
        guard capacity.isExceeded else {
            exceededCycles = 0
            guard raised != nil else { return nil }
            raised = nil
            return .clear(capacity)
        }
        exceededCycles += 1
        guard exceededCycles >= 2 else { return nil }
        if let last = raised, capacity.shortfall <= last.shortfall, now.timeIntervalSince(last.at) < reminderInterval {
            return nil
        }
        raised = (now, capacity.shortfall)
        return .raise(capacity)
    }
}

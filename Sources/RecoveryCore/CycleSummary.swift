import Foundation
import JSON

/// What the console shows of the leader's latest reconcile cycle: when it ran, how long it took, and its
/// report's counts (`RedisKeys.lastCycle`).
public struct CycleSummary: Sendable, Equatable {
    public var at: Date
    public var milliseconds: Int
    public var counts: [String: Int]
    public var capacity: ClusterCapacity?

    public init(at: Date, milliseconds: Int, counts: [String: Int], capacity: ClusterCapacity?) {
        self.at = at
        self.milliseconds = milliseconds
        self.counts = counts
        self.capacity = capacity
    }

    public func jsonData() -> Data {
        var members = [
            JSONMember(key: "at", value: .timestamp(at)),
            JSONMember(key: "milliseconds", value: .integer(milliseconds)),
            JSONMember(key: "counts", value: .countsObject(counts)),
        ]
        if let capacity { members.append(JSONMember(key: "capacity", value: capacity.jsonValue)) }
        return Data(WireJSON.encode(members))
    }

    /// The stored summary, or nil when it is not one (the console then shows no cycle).
    public static func decode(_ data: Data) -> CycleSummary? {
        guard let value = try? JSONParser.parse(Array(data)), let members = value.objectMembers,
              let at = value["at"]?.stringValue.flatMap(Timestamp.parse), let milliseconds = value["milliseconds"]?.intValue,
              let countMembers = value["counts"]?.objectMembers
        else { return nil }
        var counts: [String: Int] = [:]
        for member in countMembers {
            guard let count = member.value.intValue else { return nil }
            counts[member.key] = count
        }
        var capacity: ClusterCapacity?
        if members.contains(where: { $0.key == "capacity" }), value["capacity"] != .null {
            guard let stored = value["capacity"].flatMap(ClusterCapacity.init(json:)) else { return nil }
            capacity = stored
        }
        return CycleSummary(at: at, milliseconds: milliseconds, counts: counts, capacity: capacity)
    }
}

extension JSONValue {
    /// Named counts as an object.
    static func countsObject(_ counts: [String: Int]) -> JSONValue {
        .object(counts.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: .integer($0.value)) })
    }
}

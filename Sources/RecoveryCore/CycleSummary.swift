import Foundation

/// What the console shows of the leader's latest reconcile cycle: when it ran, how long it took, and its
/// report's counts (`RedisKeys.lastCycle`).
public struct CycleSummary: Sendable, Equatable, Codable {
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

    private enum CodingKeys: String, CodingKey { case at, milliseconds, counts, capacity }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .at)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: .at, in: container, debugDescription: "not an ISO-8601 date")
        }
        at = date
        milliseconds = try container.decode(Int.self, forKey: .milliseconds)
        counts = try container.decode([String: Int].self, forKey: .counts)
        capacity = try container.decodeIfPresent(ClusterCapacity.self, forKey: .capacity)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Timestamp.format(at), forKey: .at)
        try container.encode(milliseconds, forKey: .milliseconds)
        try container.encode(counts, forKey: .counts)
        try container.encodeIfPresent(capacity, forKey: .capacity)
    }

    public func jsonData() -> Data { WireJSON.encode(self) }

    public static func decode(_ data: Data) -> CycleSummary? { try? JSONDecoder().decode(CycleSummary.self, from: data) }
}

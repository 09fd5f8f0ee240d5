import Foundation

/// Counts and ids of one reconcile pass, for `scheduler check [--json]` and the cycle's log and metrics.
///
/// Every enabled id is in exactly one of `live`, `connecting`, `missing`, `stale`; of the missing and
/// stale ones, those not enqueued are in exactly one of `pending`, `parked`, `coolingDown`.
public struct ReconcileReport: Sendable, Equatable, Codable {
    public var generatedAt: Date
    /// Enabled ids, in input order.
    public var enabled: [EndpointID] = []
    /// Enabled ids with a live session (fresh heartbeat, up, and a lease if the pool wrote it).
    public var live: [EndpointID] = []
    /// Enabled ids without a state whose lease is held: a worker is opening the session.
    public var connecting: [EndpointID] = []
    /// Enabled ids without a state and without a lease.
    public var missing: [EndpointID] = []
    /// Ids (enabled or not) whose state is stale.
    public var stale: [EndpointID] = []
    /// Ids with a live session that are disabled or deleted.
    public var orphaned: [EndpointID] = []
    /// Missing or stale ids not enqueued because they are parked.
    public var parked: [EndpointID] = []
    /// Missing or stale ids not enqueued because a job is already pending.
    public var pending: [EndpointID] = []
    /// Missing or stale ids not enqueued because the reconnect cooldown has not elapsed.
    public var coolingDown: [EndpointID] = []
    /// Ids for which a job is planned.
    public var enqueued: [EndpointID] = []
    /// The cluster's session slots against the enabled endpoints, when the pass read the worker registry.
    public var capacity: ClusterCapacity?

    public init(generatedAt: Date) {
        self.generatedAt = generatedAt
    }

    /// The size of each list, by name.
    public var counts: [String: Int] {
        [
            "enabled": enabled.count, "live": live.count, "connecting": connecting.count,
            "missing": missing.count, "stale": stale.count, "orphaned": orphaned.count,
            "parked": parked.count, "pending": pending.count, "coolingDown": coolingDown.count,
            "enqueued": enqueued.count,
        ]
    }

    /// `{"generatedAt", "counts": {...}, "enabled": [...], ...}`, keys sorted.
    public func jsonData() -> Data { WireJSON.encode(self) }

    /// A one-line summary for the log.
    public var summary: String {
        "enabled=\(enabled.count) live=\(live.count) connecting=\(connecting.count) missing=\(missing.count) "
            + "stale=\(stale.count) orphaned=\(orphaned.count) parked=\(parked.count) pending=\(pending.count) "
            + "coolingDown=\(coolingDown.count) enqueued=\(enqueued.count)"
    }

    private enum CodingKeys: String, CodingKey {
        case generatedAt, counts, enabled, live, connecting, missing, stale, orphaned, parked, pending, coolingDown, enqueued, capacity
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .generatedAt)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: .generatedAt, in: container, debugDescription: "not an ISO-8601 date")
        }
        generatedAt = date
        enabled = try container.decode([EndpointID].self, forKey: .enabled)
        live = try container.decode([EndpointID].self, forKey: .live)
        connecting = try container.decode([EndpointID].self, forKey: .connecting)
        missing = try container.decode([EndpointID].self, forKey: .missing)
        stale = try container.decode([EndpointID].self, forKey: .stale)
        orphaned = try container.decode([EndpointID].self, forKey: .orphaned)
        parked = try container.decode([EndpointID].self, forKey: .parked)
        pending = try container.decode([EndpointID].self, forKey: .pending)
        coolingDown = try container.decode([EndpointID].self, forKey: .coolingDown)
        enqueued = try container.decode([EndpointID].self, forKey: .enqueued)
        capacity = try container.decodeIfPresent(ClusterCapacity.self, forKey: .capacity)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Timestamp.format(generatedAt), forKey: .generatedAt)
        try container.encode(counts, forKey: .counts)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(live, forKey: .live)
        try container.encode(connecting, forKey: .connecting)
        try container.encode(missing, forKey: .missing)
        try container.encode(stale, forKey: .stale)
        try container.encode(orphaned, forKey: .orphaned)
        try container.encode(parked, forKey: .parked)
        try container.encode(pending, forKey: .pending)
        try container.encode(coolingDown, forKey: .coolingDown)
        try container.encode(enqueued, forKey: .enqueued)
        try container.encodeIfPresent(capacity, forKey: .capacity)
    }
}

import Foundation
import JSON

/// Counts and ids of one reconcile pass, for `scheduler check [--json]` and the cycle's log and metrics.
///
/// Every enabled id is in exactly one of `live`, `connecting`, `missing`, `stale`; of the missing and
/// stale ones, those not enqueued are in exactly one of `pending`, `parked`, `coolingDown`.
public struct ReconcileReport: Sendable, Equatable {
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
    public func jsonData() -> Data {
        func ids(_ list: [EndpointID]) -> JSONValue { .array(list.map { .string($0.rawValue) }) }
        var members = [
            JSONMember(key: "generatedAt", value: .timestamp(generatedAt)),
            JSONMember(key: "counts", value: .countsObject(counts)),
            JSONMember(key: "enabled", value: ids(enabled)),
            JSONMember(key: "live", value: ids(live)),
            JSONMember(key: "connecting", value: ids(connecting)),
            JSONMember(key: "missing", value: ids(missing)),
            JSONMember(key: "stale", value: ids(stale)),
            JSONMember(key: "orphaned", value: ids(orphaned)),
            JSONMember(key: "parked", value: ids(parked)),
            JSONMember(key: "pending", value: ids(pending)),
            JSONMember(key: "coolingDown", value: ids(coolingDown)),
            JSONMember(key: "enqueued", value: ids(enqueued)),
        ]
        if let capacity { members.append(JSONMember(key: "capacity", value: capacity.jsonValue)) }
        return Data(WireJSON.encode(members))
    }

    /// A one-line summary for the log.
    public var summary: String {
        "enabled=\(enabled.count) live=\(live.count) connecting=\(connecting.count) missing=\(missing.count) "
            + "stale=\(stale.count) orphaned=\(orphaned.count) parked=\(parked.count) pending=\(pending.count) "
            + "coolingDown=\(coolingDown.count) enqueued=\(enqueued.count)"
    }
}

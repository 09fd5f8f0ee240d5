/// One read of the held-sessions index (`RedisKeys.heldSessions`, read by `LuaScripts.observeHeldSessions`).
public struct HeldSessionsReading: Sendable, Equatable {
    /// The index's version; empty when it has none (never written, or the database was flushed).
    public var version: String
    /// The Redis server's time of the read, milliseconds since 1970 (lease deadlines are on this clock).
    public var serverTime: Int64
    /// Members whose lease deadline had passed when the index was read.
    public var lapsed: Set<EndpointID>
    /// Every member; nil when the version was the one the reader already had.
    public var members: Set<EndpointID>?

    public init(version: String, serverTime: Int64 = 0, lapsed: Set<EndpointID>, members: Set<EndpointID>?) {
        self.version = version
        self.serverTime = serverTime
        self.lapsed = lapsed
        self.members = members
    }
}

/// The scheduler's copy of the held-sessions index between cycles: the members as of `version`. A cycle
/// passes the version to the read and gets the members back only when they changed, so a fleet whose
/// sessions stay put costs one small script call, not a read per endpoint.
public struct HeldSessionsCache: Sendable {
    /// The version the members are from; empty before the first read.
    public private(set) var version = ""
    private var members = HeldSessions.none

    public init() {}

    /// Takes in a reading and returns what the index vouches for this cycle. A reading without members
    /// for a version other than the cached one (it cannot come from the script) empties the cache and
    /// vouches for nothing, so the cycle reads every key.
    public mutating func apply(_ reading: HeldSessionsReading) -> HeldSessions {
        if let fresh = reading.members {
            members = HeldSessions(members: fresh, lapsed: [])
            version = reading.version
        } else if reading.version != version || version.isEmpty {
            self = HeldSessionsCache()
            return .none
        }
        var held = members
        held.lapsed = reading.lapsed
        return held
    }
}

/// What the held-sessions index says in one cycle: the sessions the pool holds with a state written,
/// and which of them are past their lease deadline.
public struct HeldSessions: Sendable {
    /// Each member with a slot number from 0 (for per-cycle bookkeeping in an array, see `ReconcileScope`).
    public private(set) var slots: [EndpointID: Int]
    public var lapsed: Set<EndpointID>

    /// Vouches for nothing (every endpoint is read key by key).
    public static let none = HeldSessions(members: [], lapsed: [])

    public init(members: Set<EndpointID>, lapsed: Set<EndpointID>) {
        var slots: [EndpointID: Int] = [:]
        slots.reserveCapacity(members.count)
        for (slot, id) in members.enumerated() { slots[id] = slot }
        self.slots = slots
        self.lapsed = lapsed
    }

    /// How many sessions the index holds.
    public var count: Int { slots.count }

    /// Whether `endpointId` is a member (lapsed or not).
    public func contains(_ endpointId: EndpointID) -> Bool { slots[endpointId] != nil }

    /// Whether the pool holds `endpointId`'s session under a lease whose deadline is ahead: a worker wrote
    /// its state (always Connected) under that lease and keeps renewing it, so it counts as live without
    /// reading its keys.
    public func vouchesFor(_ endpointId: EndpointID) -> Bool {
        slots[endpointId] != nil && (lapsed.isEmpty || !lapsed.contains(endpointId))
    }
}

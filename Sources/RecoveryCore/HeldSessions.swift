/// One read of the held-sessions index (`RedisKeys.heldSessions`, read by `LuaScripts.observeHeldSessions`).
public struct HeldSessionsReading: Sendable, Equatable {
    /// The index's version; empty when it has none (never written, or the database was flushed).
    public var version: String
    /// Members whose lease deadline had passed when the index was read.
    public var lapsed: Set<String>
    /// Every member; nil when the version was the one the reader already had.
    public var members: Set<String>?

    public init(version: String, lapsed: Set<String>, members: Set<String>?) {
        self.version = version
        self.lapsed = lapsed
        self.members = members
    }
}

/// The scheduler's copy of the held-sessions index between cycles: the members as of `version`. A cycle
/// passes the version to the read and gets the members back only when they changed, so a fleet whose
/// sessions stay put costs one small script call, not a read per endpoint.
public struct HeldSessionsCache: Sendable, Equatable {
    /// The version the members are from; empty before the first read.
    public private(set) var version = ""
    public private(set) var members: Set<String> = []

    public init() {}

    /// Takes in a reading and returns what the index vouches for this cycle. A reading without members
    /// for a version other than the cached one (it cannot come from the script) empties the cache and
    /// vouches for nothing, so the cycle reads every key.
    public mutating func apply(_ reading: HeldSessionsReading) -> HeldSessions {
        if let members = reading.members {
            self.members = members
            version = reading.version
        } else if reading.version != version || version.isEmpty {
            self = HeldSessionsCache()
            return .none
        }
        return HeldSessions(members: members, lapsed: reading.lapsed)
    }
}

/// What the held-sessions index says in one cycle: the sessions the pool holds with a state written,
/// and which of them are past their lease deadline.
public struct HeldSessions: Sendable, Equatable {
    public var members: Set<String>
    public var lapsed: Set<String>

    /// Vouches for nothing (every endpoint is read key by key).
    public static let none = HeldSessions(members: [], lapsed: [])

    public init(members: Set<String>, lapsed: Set<String>) {
        self.members = members
        self.lapsed = lapsed
    }

    /// Whether the pool holds `serverId`'s session under a lease whose deadline is ahead: a worker wrote
    /// its state (always Connected) under that lease and keeps renewing it, so it counts as live without
    /// reading its keys.
    public func vouchesFor(_ serverId: String) -> Bool {
        members.contains(serverId) && (lapsed.isEmpty || !lapsed.contains(serverId))
    }

    /// The ids a cycle reads key by key: the enabled ids it does not vouch for (in their order), then the
    /// members that are not enabled (sorted: orphans to stop, or lapsed leftovers). One set lookup per
    /// enabled id; the set of enabled ids is built only when some member is not among them.
    public func idsToRead(enabled: [String]) -> [String] {
        var ids: [String] = []
        var enabledMembers = 0
        for id in enabled {
            if members.contains(id) {
                enabledMembers += 1
                if lapsed.isEmpty || !lapsed.contains(id) { continue }
            }
            ids.append(id)
        }
        guard enabledMembers < members.count else { return ids }
        let enabledSet = Set(enabled)
        var others: [String] = []
        for id in members where !enabledSet.contains(id) {
            others.append(id)
        }
        return ids + others.sorted()
    }
}

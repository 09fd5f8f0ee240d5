/// The first step of a reconcile pass, before Redis is read key by key: the enabled endpoints, each id
/// once (the first row wins); which of them the held-sessions index vouches for; and so which ids to read.
/// Costs one hash lookup per enabled id: an id that is a member of the index is de-duplicated through its
/// slot, any other through a set of its own.
public struct ReconcileScope: Sendable {
    /// The enabled endpoints, each id once, in their order.
    public let endpoints: [EnabledEndpoint]
    /// For each of `endpoints`: whether the index vouches for it (it is not read key by key).
    let vouched: [Bool]
    /// Ids to read key by key that are not enabled (members of the index, and whatever else the read
    /// must look at), sorted.
    public let notEnabled: [EndpointID]
    /// What the index says this cycle.
    public let held: HeldSessions
    /// Which slots of `held` belong to enabled endpoints.
    private let enabledSlots: [Bool]
    /// Enabled ids that are not members of `held`.
    private let enabledOthers: Set<EndpointID>

    /// The scope of one read: on a full read the index vouches for nothing and every member of it and of
    /// `indexed` (`mcp:connections:all`) is read too; otherwise what `vouching` vouches for is not read.
    public init(enabled: [EnabledEndpoint], vouching: HeldSessions, fullRead: Bool, indexed: Set<EndpointID>) {
        guard fullRead else {
            self.init(enabled: enabled, held: vouching)
            return
        }
        var alsoRead = indexed
        for id in vouching.slots.keys { alsoRead.insert(id) }
        self.init(enabled: enabled, held: HeldSessions(members: [], lapsed: vouching.lapsed), alsoRead: alsoRead)
    }

    /// - Parameters:
    ///   - enabled: the rows with `"IsEnabled"`, as queried.
    ///   - held: what the held-sessions index vouches for (`.none` to read every enabled id).
    ///   - alsoRead: ids to read when they are not enabled (on a full read: the members of
    ///     `mcp:connections:all` and of the index); members of `held` that are not enabled are read anyway.
    public init(enabled: [EnabledEndpoint], held: HeldSessions, alsoRead: Set<EndpointID> = []) {
        var endpoints: [EnabledEndpoint] = []
        var vouched: [Bool] = []
        endpoints.reserveCapacity(enabled.count)
        vouched.reserveCapacity(enabled.count)
        var enabledSlots = [Bool](repeating: false, count: held.slots.count)
        var enabledMembers = 0
        var others = Set<EndpointID>()
        let noneLapsed = held.lapsed.isEmpty
        for endpoint in enabled {
            if let slot = held.slots[endpoint.id] {
                if enabledSlots[slot] { continue }
                enabledSlots[slot] = true
                enabledMembers += 1
                vouched.append(noneLapsed || !held.lapsed.contains(endpoint.id))
            } else {
                guard others.insert(endpoint.id).inserted else { continue }
                vouched.append(false)
            }
            endpoints.append(endpoint)
        }

        var notEnabled: [EndpointID] = []
        if enabledMembers < held.slots.count {
            for (id, slot) in held.slots where !enabledSlots[slot] {
                notEnabled.append(id)
            }
        }
        for id in alsoRead where held.slots[id] == nil && !others.contains(id) {
            notEnabled.append(id)
        }
        notEnabled.sort()

        self.endpoints = endpoints
        self.vouched = vouched
        self.notEnabled = notEnabled
        self.held = held
        self.enabledSlots = enabledSlots
        self.enabledOthers = others
    }

    /// Whether `endpoints[index]` is vouched for by the index.
    public func isVouchedFor(at index: Int) -> Bool { vouched[index] }

    /// Whether `endpointId` is enabled.
    public func isEnabled(_ endpointId: EndpointID) -> Bool {
        if let slot = held.slots[endpointId] { return enabledSlots[slot] }
        return enabledOthers.contains(endpointId)
    }

    /// The ids to read key by key: the enabled ids not vouched for, in their order, then `notEnabled`.
    public var idsToRead: [EndpointID] {
        var ids: [EndpointID] = []
        for (index, endpoint) in endpoints.enumerated() where !vouched[index] {
            ids.append(endpoint.id)
        }
        return ids + notEnabled
    }
}

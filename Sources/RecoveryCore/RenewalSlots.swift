/// Spreads a worker's lease renewals over the renewal interval. Each held session belongs to one of
/// `count` slots (the least filled when it joins), and each tick of the renewal timer renews one slot, so
/// every lease is still renewed once per interval, but the leases of a worker lapse spread over one
/// interval when it dies rather than all at one instant. Whoever takes the work over starts on the first
/// of them an interval sooner, and Redis sees small renewals instead of one script over every lease. Pure.
public struct RenewalSlots: Sendable, Equatable {
    public let count: Int
    private var slotOf: [EndpointID: Int] = [:]
    private var members: [Set<EndpointID>]

    /// `count` is clamped to at least 1 (1: one batch renews every lease).
    public init(count: Int) {
        self.count = max(1, count)
        members = Array(repeating: [], count: self.count)
    }

    /// The number of slots for a renewal interval, each tick at least `minimumTick` apart and at most
    /// `maximum` slots.
    public static func count(interval: Duration, minimumTick: Duration, maximum: Int) -> Int {
        guard minimumTick > .zero else { return max(1, maximum) }
        let fitting = Int(interval / minimumTick)
        return max(1, min(maximum, fitting))
    }

    /// Places `id` in the least filled slot (the lowest of equals) and returns it; an id already placed
    /// keeps its slot.
    @discardableResult
    public mutating func insert(_ id: EndpointID) -> Int {
        if let slot = slotOf[id] { return slot }
        var slot = 0
        for candidate in 1..<count where members[candidate].count < members[slot].count {
            slot = candidate
        }
        slotOf[id] = slot
        members[slot].insert(id)
        return slot
    }

    /// Removes `id` from its slot, if placed.
    public mutating func remove(_ id: EndpointID) {
        guard let slot = slotOf.removeValue(forKey: id) else { return }
        members[slot].remove(id)
    }

    /// Removes every id.
    public mutating func removeAll() {
        slotOf.removeAll()
        members = Array(repeating: [], count: count)
    }

    /// The ids in the slot that tick `tick` renews (tick `n` renews slot `n % count`).
    public func members(forTick tick: Int) -> Set<EndpointID> {
        members[((tick % count) + count) % count]
    }

    /// The slot of `id`, if placed.
    public func slot(of id: EndpointID) -> Int? { slotOf[id] }

    /// How many ids each slot holds.
    public var sizes: [Int] { members.map(\.count) }
}

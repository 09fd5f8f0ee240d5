import Foundation
import Logging
import RecoveryCore

/// The registry of this worker's held sessions. Sessions are added when a job opens them and removed
/// exactly once, whichever way they end; the one that removes a session decides what follows.
public actor SessionKeeper {
    private var sessions: [String: HeldSession] = [:]
    private var reserved: Set<String> = []
    private var renewalSlots: RenewalSlots
    private let capacity: Int

    /// `renewalSlots`: how many ticks of the renewal timer share the held leases (see `RenewalSlots`).
    public init(capacity: Int, renewalSlots: Int = 1) {
        self.capacity = capacity
        self.renewalSlots = RenewalSlots(count: renewalSlots)
    }

    /// How many ticks of the renewal timer share the held leases.
    public var renewalSlotCount: Int { renewalSlots.count }

    /// Sessions held now.
    public var count: Int { sessions.count }

    /// Sessions held plus slots reserved by jobs being worked on.
    public var occupied: Int { sessions.count + reserved.count }

    /// Free slots for new sessions.
    public var free: Int { max(0, capacity - occupied) }

    /// Reserves a slot for a job about to open `serverId`'s session; false when full or already held here.
    public func reserve(_ serverId: String) -> Bool {
        guard sessions[serverId] == nil, !reserved.contains(serverId), occupied < capacity else { return false }
        reserved.insert(serverId)
        return true
    }

    /// Gives back a slot reserved by a job that did not open a session.
    public func cancelReservation(_ serverId: String) {
        reserved.remove(serverId)
    }

    /// Turns a reservation into a held session.
    public func add(_ held: HeldSession) {
        reserved.remove(held.serverId)
        sessions[held.serverId] = held
        renewalSlots.insert(held.serverId)
    }

    /// Removes and returns the session, if it is still held (only the first caller gets it).
    public func take(_ serverId: String) -> HeldSession? {
        renewalSlots.remove(serverId)
        return sessions.removeValue(forKey: serverId)
    }

    /// Removes and returns every session (shutdown).
    public func takeAll() -> [HeldSession] {
        defer {
            sessions.removeAll()
            renewalSlots.removeAll()
        }
        return Array(sessions.values)
    }

    public func session(_ serverId: String) -> HeldSession? { sessions[serverId] }

    /// Every held session (for renewals and heartbeats).
    public func snapshot() -> [HeldSession] { Array(sessions.values) }

    /// The lease tokens that renewal tick `tick` renews: one slot's share of the held sessions.
    public func leaseTokens(forTick tick: Int) -> [String: String] {
        var tokens: [String: String] = [:]
        for serverId in renewalSlots.members(forTick: tick) {
            if let held = sessions[serverId] { tokens[serverId] = held.leaseToken }
        }
        return tokens
    }
}

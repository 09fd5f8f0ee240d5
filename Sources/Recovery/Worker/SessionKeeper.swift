import Foundation
import Logging
import RecoveryCore

/// The registry of this worker's held sessions. Sessions are added when a job opens them and removed
/// exactly once, whichever way they end; the one that removes a session decides what follows.
public actor SessionKeeper {
    private var sessions: [String: HeldSession] = [:]
    private var reserved: Set<String> = []
    private let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

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
    }

    /// Removes and returns the session, if it is still held (only the first caller gets it).
    public func take(_ serverId: String) -> HeldSession? {
        sessions.removeValue(forKey: serverId)
    }

    /// Removes and returns every session (shutdown).
    public func takeAll() -> [HeldSession] {
        defer { sessions.removeAll() }
        return Array(sessions.values)
    }

    public func session(_ serverId: String) -> HeldSession? { sessions[serverId] }

    /// Every held session (for renewals and heartbeats).
    public func snapshot() -> [HeldSession] { Array(sessions.values) }

    /// The lease tokens of every held session.
    public func leaseTokens() -> [String: String] {
        sessions.mapValues(\.leaseToken)
    }
}

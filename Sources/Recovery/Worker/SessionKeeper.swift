import Foundation
import Logging
import RecoveryCore

/// The registry of this worker's held sessions. Sessions are added when a job opens them and removed
/// exactly once, whichever way they end; the one that removes a session decides what follows.
actor SessionKeeper {
    private var sessions: [EndpointID: HeldSession] = [:]
    private var reserved: Set<EndpointID> = []
    /// Reserved endpoints a stop arrived for while their sessions opened.
    private var stoppedWhileOpening: Set<EndpointID> = []
    private var renewalSlots: RenewalSlots
    private var leaseDeadlines: LeaseDeadlines
    private let capacity: Int

    /// `renewalSlots`: how many ticks of the renewal timer share the held leases (see `RenewalSlots`);
    /// `leaseTiming`: the local deadlines of the held leases (see `LeaseDeadlines`).
    init(capacity: Int, renewalSlots: Int = 1, leaseTiming: LeaseTiming = LeaseTiming(ttlSeconds: 15)) {
        self.capacity = capacity
        self.renewalSlots = RenewalSlots(count: renewalSlots)
        self.leaseDeadlines = LeaseDeadlines(timing: leaseTiming)
    }

    /// How many ticks of the renewal timer share the held leases.
    var renewalSlotCount: Int { renewalSlots.count }

    /// Sessions held now.
    var count: Int { sessions.count }

    /// Sessions held plus slots reserved by jobs being worked on.
    var occupied: Int { sessions.count + reserved.count }

    /// Free slots for new sessions.
    var free: Int { max(0, capacity - occupied) }

    /// Reserves a slot for a job about to open `endpointId`'s session; false when full or already held here.
    func reserve(_ endpointId: EndpointID) -> Bool {
        guard sessions[endpointId] == nil, !reserved.contains(endpointId), occupied < capacity else { return false }
        reserved.insert(endpointId)
        return true
    }

    /// Gives back a slot reserved by a job that did not open a session.
    func cancelReservation(_ endpointId: EndpointID) {
        reserved.remove(endpointId)
        stoppedWhileOpening.remove(endpointId)
    }

    /// Turns a reservation into a held session whose lease was last confirmed by a request sent at
    /// `leaseConfirmedAt`. Returns whether a stop arrived for it while it opened: its job ends it.
    @discardableResult
    func add(_ held: HeldSession, leaseConfirmedAt: ContinuousClock.Instant) -> Bool {
        reserved.remove(held.endpointId)
        defer { stoppedWhileOpening.remove(held.endpointId) }
        sessions[held.endpointId] = held
        renewalSlots.insert(held.endpointId)
        leaseDeadlines.confirmed(CollectionOfOne(held.endpointId), requestSentAt: leaseConfirmedAt)
        return stoppedWhileOpening.contains(held.endpointId)
    }

    /// Whether a stop arrived for the endpoint while its session opened (and its job has not ended it yet).
    func stopRequested(_ endpointId: EndpointID) -> Bool { stoppedWhileOpening.contains(endpointId) }

    /// Removes and returns the session a stop ends; a session still opening (reserved) is marked instead,
    /// and `add` tells its job to end it, so that a stop the connect outran is not lost.
    func stop(_ endpointId: EndpointID) -> HeldSession? {
        if reserved.contains(endpointId) { stoppedWhileOpening.insert(endpointId) }
        return take(endpointId)
    }

    /// The leases of `endpointIds` were confirmed renewed by a request sent at `sentAt` (ids no longer
    /// held are ignored).
    func leasesConfirmed(_ endpointIds: some Sequence<EndpointID>, requestSentAt sentAt: ContinuousClock.Instant) {
        leaseDeadlines.confirmed(endpointIds.lazy.filter { self.sessions[$0] != nil }, requestSentAt: sentAt)
    }

    /// The local deadline of a held session's lease.
    func leaseDeadline(_ endpointId: EndpointID) -> ContinuousClock.Instant? {
        leaseDeadlines.deadline(of: endpointId)
    }

    /// Removes and returns the sessions whose lease was not confirmed by their local deadline: their
    /// holder must close them now, before another worker can take the lease.
    func takeExpiredLeases(at now: ContinuousClock.Instant) -> [HeldSession] {
        leaseDeadlines.takeExpired(at: now).compactMap { take($0) }
    }

    /// Removes and returns the session, if it is still held (only the first caller gets it).
    func take(_ endpointId: EndpointID) -> HeldSession? {
        renewalSlots.remove(endpointId)
        leaseDeadlines.remove(endpointId)
        return sessions.removeValue(forKey: endpointId)
    }

    /// Removes and returns every session (shutdown).
    func takeAll() -> [HeldSession] {
        defer {
            sessions.removeAll()
            renewalSlots.removeAll()
            leaseDeadlines.removeAll()
        }
        return Array(sessions.values)
    }

    func session(_ endpointId: EndpointID) -> HeldSession? { sessions[endpointId] }

    /// Puts `held` in place of the same session (same endpoint, same lease token), if that is still held.
    func replace(_ held: HeldSession) {
        if sessions[held.endpointId]?.leaseToken == held.leaseToken { sessions[held.endpointId] = held }
    }

    /// Every held session (for renewals and heartbeats).
    func snapshot() -> [HeldSession] { Array(sessions.values) }

    /// The lease tokens that renewal tick `tick` renews: one slot's share of the held sessions.
    func leaseTokens(forTick tick: Int) -> [EndpointID: String] {
        var tokens: [EndpointID: String] = [:]
        for endpointId in renewalSlots.members(forTick: tick) {
            if let held = sessions[endpointId] { tokens[endpointId] = held.leaseToken }
        }
        return tokens
    }
}

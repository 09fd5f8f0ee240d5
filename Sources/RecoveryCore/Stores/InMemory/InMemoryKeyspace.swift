import Foundation
import Synchronization

/// The pool's keyspace (SPEC §5) held in memory, for tests and tools that run the pool's rules without a
/// Redis server. Each role store's operation runs under one lock, so it is as atomic as its Lua script,
/// and keys with a TTL lapse on `clock`, which tests move by hand.
public final class InMemoryKeyspace: Sendable {
    struct Expiring: Sendable {
        var value: String
        /// Milliseconds on the keyspace's clock; nil never lapses.
        var expiresAt: Int64?
    }

    struct Contents: Sendable {
        var leases: [EndpointID: Expiring] = [:]
        var fences: [EndpointID: Int] = [:]
        var states: [EndpointID: String] = [:]
        var indexed: Set<EndpointID> = []
        /// The held-sessions index: endpoint id → lease deadline.
        var held: [EndpointID: Int64] = [:]
        var heldVersion = 0
        var pending: [EndpointID: Expiring] = [:]
        var parked: [EndpointID: String] = [:]
        var lastAttempts: [EndpointID: String] = [:]
        /// Jobs not received yet: `QueuedJob.member` → when it enters the jobs queue.
        var queued: [String: Int64] = [:]
        var receivedThrough: Int64 = 0
        var leader: Expiring?
        var workers: [String: String] = [:]
        var workerAlive: [String: Expiring] = [:]
        var lastCycle: Expiring?
    }

    let contents = Mutex(Contents())
    let clock: @Sendable () -> Date

    /// `clock` is the store's time, which lapses leases and markers and judges heartbeats.
    public init(clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
    }

    /// The keyspace's time in milliseconds since 1970.
    var now: Int64 { Self.milliseconds(clock()) }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Runs `body` on the contents with the time it runs at, under the lock.
    func update<Result>(_ body: (inout Contents, Int64) throws -> Result) rethrows -> Result {
        let now = now
        return try contents.withLock { try body(&$0, now) }
    }
}

extension InMemoryKeyspace.Expiring {
    func live(at now: Int64) -> Bool { expiresAt.map { $0 > now } ?? true }
}

extension InMemoryKeyspace.Contents {
    /// The live value of an expiring entry.
    func value(_ entry: InMemoryKeyspace.Expiring?, at now: Int64) -> String? {
        guard let entry, entry.live(at: now) else { return nil }
        return entry.value
    }

    func leaseHolds(_ endpointId: EndpointID, token: String, at now: Int64) -> Bool {
        value(leases[endpointId], at: now) == token
    }

    /// Records a session in the held-sessions index at its lease's deadline; whether it joined.
    mutating func hold(_ endpointId: EndpointID, at now: Int64) -> Bool {
        let deadline = leases[endpointId]?.expiresAt ?? now
        return held.updateValue(deadline, forKey: endpointId) == nil
    }

    /// Drops a session from the held-sessions index, moving its version when it was there.
    mutating func unhold(_ endpointId: EndpointID) {
        if held.removeValue(forKey: endpointId) != nil { heldVersion += 1 }
    }
}

import Foundation
import RecoveryCore

/// What the original .NET platform's connection monitor decides for one endpoint in one cycle, free of
/// I/O: from its own session, the endpoint's `mcp:connection:{id}` state and the lock attempt, whether
/// to leave the endpoint alone, take its lock, or connect. `OriginalMonitor` carries the steps out.
struct OriginalMonitorDecision: Sendable {
    /// Why an endpoint is left alone this cycle.
    enum SkipReason: Sendable, Equatable {
        /// This monitor's own session to the endpoint is open.
        case ownSessionOpen
        /// Someone else's state says Connected with a fresh heartbeat (the pool, or another instance).
        case connectedElsewhere
    }

    /// The first step of a cycle for an endpoint.
    enum CycleStep: Sendable, Equatable {
        case skip(SkipReason)
        /// Take the endpoint's lock (`SET NX PX`, retried for the lock wait) before connecting.
        case takeLock
    }

    /// The step once the lock attempt ended.
    enum LockedStep: Sendable, Equatable {
        /// The lock is held and nobody connected meanwhile: open the session.
        case connect
        /// The lock is held but the endpoint came up elsewhere while waiting: release it, do nothing.
        case release(SkipReason)
        /// The lock stayed taken for the whole wait.
        case lockWaitTimedOut
    }

    /// The `InstanceId` this monitor writes into its states, to tell its own states from others'.
    let instanceId: String
    /// A Connected state whose `LastHeartbeat` is older than this is not a live session.
    let heartbeatTimeout: TimeInterval

    /// The first step: an open session of its own is kept; a live session of someone else is left
    /// alone; anything else (no state, stale, Disconnected, Failed, or its own state of a session it
    /// lost) is treated as not connected.
    func atCycleStart(ownSessionOpen: Bool, state: ConnectionState?, now: Date) -> CycleStep {
        if ownSessionOpen { return .skip(.ownSessionOpen) }
        if isConnectedElsewhere(state, now: now) { return .skip(.connectedElsewhere) }
        return .takeLock
    }

    /// After the lock attempt: the original reads the state again once it holds the lock, since another
    /// instance may have connected while it waited.
    func afterLock(acquired: Bool, state: ConnectionState?, now: Date) -> LockedStep {
        guard acquired else { return .lockWaitTimedOut }
        if isConnectedElsewhere(state, now: now) { return .release(.connectedElsewhere) }
        return .connect
    }

    /// Whether `state` is a live session of another holder: Connected, a heartbeat within the timeout,
    /// and not a state this monitor wrote (its own states are vouched for by its own sessions).
    func isConnectedElsewhere(_ state: ConnectionState?, now: Date) -> Bool {
        guard let state, state.status == .connected else { return false }
        guard now.timeIntervalSince(state.lastHeartbeat) <= heartbeatTimeout else { return false }
        return !isOwn(state)
    }

    /// Whether this monitor wrote `state`: the original's states carry no `Owner`, and its `InstanceId`.
    /// Heartbeats and disconnects rewrite only such states, never the pool's.
    func isOwn(_ state: ConnectionState) -> Bool {
        state.owner == nil && state.instanceId == instanceId
    }
}

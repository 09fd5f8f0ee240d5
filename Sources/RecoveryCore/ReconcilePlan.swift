import Foundation

/// Why a stored state no longer counts as a live session.
public enum StaleReason: String, Sendable, Equatable, Hashable, CaseIterable {
    /// `LastHeartbeat` is older than `HeartbeatTimeoutSeconds`.
    case heartbeatExpired
    /// Written by the pool, but its lease is gone (the holder died or lost it).
    case leaseLost
    /// `Status` is Disconnected or Failed.
    case notConnected
    /// The value does not decode as a state.
    case unreadable
}

/// A job the scheduler should publish (attempt 1).
public struct PlannedJob: Sendable, Equatable, Hashable {
    public var endpointId: EndpointID
    public var endpointName: String
    /// `missing` or `stale`.
    public var reason: RecoveryReason
    /// Set when `reason` is `stale`.
    public var staleReason: StaleReason?

    public init(endpointId: EndpointID, endpointName: String, reason: RecoveryReason, staleReason: StaleReason? = nil) {
        self.endpointId = endpointId
        self.endpointName = endpointName
        self.reason = reason
        self.staleReason = staleReason
    }

    /// The job message for this plan entry.
    public func job(jobId: String, at date: Date) -> RecoveryJob {
        RecoveryJob(jobId: jobId, endpointId: endpointId, reason: reason, attempt: 1, enqueuedAt: date)
    }
}

/// A session to close: the endpoint is disabled or deleted; `instanceId` is the worker holding it.
public struct PlannedStop: Sendable, Equatable, Hashable {
    public var endpointId: EndpointID
    public var instanceId: String

    public init(endpointId: EndpointID, instanceId: String) {
        self.endpointId = endpointId
        self.instanceId = instanceId
    }

    /// The control message for this plan entry.
    public func message(at date: Date) -> ControlMessage {
        ControlMessage(command: .stop, endpointId: endpointId, instanceId: instanceId, reason: .orphaned, issuedAt: date)
    }
}

/// A state to delete with `LuaScripts.deleteStateIfUnchanged`, passing `storedValue`.
public struct StaleState: Sendable, Equatable, Hashable {
    public var endpointId: EndpointID
    public var reason: StaleReason
    /// The exact value read, so a newer write is not deleted.
    public var storedValue: String

    public init(endpointId: EndpointID, reason: StaleReason, storedValue: String) {
        self.endpointId = endpointId
        self.reason = reason
        self.storedValue = storedValue
    }
}

/// A pending marker and the job id it names (removed only while it still names that job).
public struct PendingMarker: Sendable, Equatable, Hashable {
    public var endpointId: EndpointID
    public var jobId: String

    public init(endpointId: EndpointID, jobId: String) {
        self.endpointId = endpointId
        self.jobId = jobId
    }
}

/// What one reconcile pass decided. Every list is in a deterministic order.
public struct ReconcilePlan: Sendable, Equatable {
    /// Pending markers whose job is gone (no job waits anywhere): removed before `jobs` are published.
    public var lostPendingMarkers: [PendingMarker] = []
    /// Jobs to publish (set the pending marker first; skip the publish when it is already set).
    public var jobs: [PlannedJob] = []
    /// Stop requests for pool-held sessions of disabled or deleted endpoints.
    public var stops: [PlannedStop] = []
    /// Live states of disabled or deleted endpoints written by the original platform: no control route
    /// reaches them, so they are only reported.
    public var unmanagedOrphans: [EndpointID] = []
    /// States to delete.
    public var staleStates: [StaleState] = []
    /// Fields of `mcp:recovery:parked` to remove (the park ended, the endpoint is live, or it is no longer enabled).
    public var parkedToClear: [EndpointID] = []
    /// Members of `mcp:connections:all` without a state, to remove with `LuaScripts.removeIndexEntryIfNoState`.
    public var indexEntriesToRemove: [EndpointID] = []
    /// Members of the held-sessions index past their lease deadline whose lease is gone or whose state is
    /// not the pool's, to drop with `LuaScripts.forgetLapsedSessions` (the next holder's write adds them back).
    public var heldToForget: [EndpointID] = []
    /// Fields of `mcp:recovery:last-attempt` whose endpoint is no longer enabled (disabled or deleted): its
    /// cooldown clock spaces nothing any more, and the hash would otherwise only grow.
    public var attemptsToForget: [EndpointID] = []
    /// Workers of `mcp:recovery:workers` whose liveness key is gone (they died or exited without removing
    /// their record), to drop with `LuaScripts.forgetWorkersWithoutLiveness`, which checks the key again.
    public var workersToForget: [String] = []
    /// Counts and ids for `scheduler check`.
    public var report: ReconcileReport

    public init(report: ReconcileReport) {
        self.report = report
    }
}

import Foundation

/// An endpoint row with `"IsEnabled" = true`.
public struct EnabledEndpoint: Sendable, Equatable, Hashable {
    public var id: EndpointID
    public var name: String
    /// The row's `"UpdatedAt"`; a change after a park ends the park.
    public var updatedAt: Date?

    public init(id: EndpointID, name: String, updatedAt: Date?) {
        self.id = id
        self.name = name
        self.updatedAt = updatedAt
    }
}

/// What `mcp:connection:{id}` held when read. Indirect, so an observation is one pointer wide and cheap to copy.
public indirect enum StateReading: Sendable, Equatable {
    case absent
    /// A value that does not decode as a state; `raw` is kept for the compare-and-delete.
    case unreadable(raw: String)
    /// A decoded state and the exact stored string it came from.
    case decoded(ConnectionState, raw: String)

    /// Reads a stored value (nil when the key is absent).
    public init(stored: String?) {
        guard let stored else {
            self = .absent
            return
        }
        if let state = try? ConnectionState.decode(stored) {
            self = .decoded(state, raw: stored)
        } else {
            self = .unreadable(raw: stored)
        }
    }
}

/// What Redis says about one endpoint id: its state, whether its lease key exists, and whether it is a
/// member of `mcp:connections:all`.
public struct LiveObservation: Sendable, Equatable {
    public var state: StateReading
    public var leaseHeld: Bool
    public var indexed: Bool

    public init(state: StateReading, leaseHeld: Bool, indexed: Bool = false) {
        self.state = state
        self.leaseHeld = leaseHeld
        self.indexed = indexed
    }

    /// What one id's keys say, or nil when it has no state, no lease and no index entry (nothing live).
    public static func read(stored: String?, leaseHeld: Bool, indexed: Bool) -> LiveObservation? {
        guard stored != nil || leaseHeld || indexed else { return nil }
        return LiveObservation(state: StateReading(stored: stored), leaseHeld: leaseHeld, indexed: indexed)
    }
}

/// The timing rules of a reconcile pass (from `ConnectionMonitor:*` and `Recovery:ParkSeconds`).
public struct ReconcilePolicy: Sendable, Equatable {
    /// A state whose `LastHeartbeat` is older than this is stale.
    public var heartbeatTimeout: TimeInterval
    /// Minimum time between two jobs published for one endpoint.
    public var reconnectCooldown: TimeInterval
    /// How long a transient park lasts when it has no explicit `until`.
    public var parkPeriod: TimeInterval

    public init(heartbeatTimeout: TimeInterval = 90, reconnectCooldown: TimeInterval = 60, parkPeriod: TimeInterval = 3600) {
        self.heartbeatTimeout = heartbeatTimeout
        self.reconnectCooldown = reconnectCooldown
        self.parkPeriod = parkPeriod
    }
}

/// Everything one reconcile pass looks at, already read from Postgres and Redis.
public struct ReconcileInput: Sendable {
    /// The enabled endpoints (each once), what the held-sessions index vouches for, and what was read.
    public var scope: ReconcileScope
    /// Keyed by endpoint id: what was read key by key (`scope.idsToRead`). An enabled id without an entry
    /// that the index does not vouch for counts as absent state, no lease.
    public var observations: [EndpointID: LiveObservation]
    /// Ids with a `mcp:recovery:pending:{id}` marker, and the job id each names.
    public var pending: [EndpointID: String]
    /// No job waits anywhere: the jobs queue and every retry queue had no ready message and no
    /// unacknowledged delivery when the pass began. A pending marker then names a job that is gone.
    public var jobQueuesIdle: Bool
    /// Jobs the queue handed out behind a later job without any worker receiving them (see `QueuedJob`),
    /// by endpoint: a pending marker naming one of them names a job that is gone.
    public var vanishedJobs: [EndpointID: String] = [:]
    /// The `mcp:recovery:parked` hash, decoded.
    public var parked: [EndpointID: ParkedEndpoint]
    /// When a job was last published for each id (`mcp:recovery:last-attempt`).
    public var lastAttempts: [EndpointID: Date]
    /// The workers of the `mcp:recovery:workers` hash, each with whether its liveness key
    /// (`mcp:recovery:worker:{id}`) exists; empty when this pass did not read them.
    public var workerLiveness: [String: Bool]
    public var now: Date

    public init(
        scope: ReconcileScope, observations: [EndpointID: LiveObservation], pending: [EndpointID: String] = [:],
        jobQueuesIdle: Bool = false,
        parked: [EndpointID: ParkedEndpoint] = [:], lastAttempts: [EndpointID: Date] = [:], workerLiveness: [String: Bool] = [:], now: Date
    ) {
        self.scope = scope
        self.observations = observations
        self.pending = pending
        self.jobQueuesIdle = jobQueuesIdle
        self.parked = parked
        self.lastAttempts = lastAttempts
        self.workerLiveness = workerLiveness
        self.now = now
    }

    /// An input whose scope is built here: the held-sessions index `held`, and every observed id read.
    public init(
        enabled: [EnabledEndpoint], observations: [EndpointID: LiveObservation], pending: [EndpointID: String] = [:],
        jobQueuesIdle: Bool = false, parked: [EndpointID: ParkedEndpoint] = [:], lastAttempts: [EndpointID: Date] = [:], workerLiveness: [String: Bool] = [:],
        held: HeldSessions = .none, now: Date
    ) {
        self.init(
            scope: ReconcileScope(enabled: enabled, held: held, alsoRead: Set(observations.keys)),
            observations: observations, pending: pending, jobQueuesIdle: jobQueuesIdle, parked: parked, lastAttempts: lastAttempts,
            workerLiveness: workerLiveness, now: now)
    }
}

extension ReconcileInput {
    /// Decodes the `mcp:recovery:parked` hash (field = id, value = JSON). Entries that do not decode are
    /// returned apart, to be logged and removed; they do not block their endpoint.
    public static func decodeParked(_ hash: [EndpointID: String]) -> (parked: [EndpointID: ParkedEndpoint], malformed: [EndpointID]) {
        var parked: [EndpointID: ParkedEndpoint] = [:]
        var malformed: [EndpointID] = []
        for (id, value) in hash {
            if let entry = try? ParkedEndpoint.decode(Data(value.utf8)), entry.endpointId == id {
                parked[id] = entry
            } else {
                malformed.append(id)
            }
        }
        return (parked, malformed.sorted())
    }

    /// Decodes the `mcp:recovery:last-attempt` hash (field = id, value = ISO-8601 time); unreadable
    /// times are dropped (the cooldown then does not apply to that endpoint).
    public static func decodeLastAttempts(_ hash: [EndpointID: String]) -> [EndpointID: Date] {
        var attempts: [EndpointID: Date] = [:]
        attempts.reserveCapacity(hash.count)
        for (id, value) in hash {
            if let date = Timestamp.parse(value) { attempts[id] = date }
        }
        return attempts
    }
}

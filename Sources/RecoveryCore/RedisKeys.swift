/// Every Redis key the pool reads or writes. The first three are the original platform's and keep its
/// exact names so both systems see and exclude each other; the rest live under `mcp:recovery:`.
public enum RedisKeys {
    /// Prefix of every key the pool adds.
    public static let recoveryPrefix = "mcp:recovery:"

    /// `mcp:connection:{id}`: string, the `ConnectionState` JSON the original's UI reads. Written (with
    /// `SADD` to `connectionIndex`) only by `LuaScripts.writeStateIfLeaseHeld`; no TTL.
    public static func connectionState(_ endpointId: EndpointID) -> String { "mcp:connection:" + endpointId.rawValue }

    /// `mcp:connections:all`: set of the endpoint ids that have a state (the original lists states from it).
    public static let connectionIndex = "mcp:connections:all"

    /// `redlock:mcp:lock:connection:{id}`: string, the endpoint's lease (the original's RedLock key).
    /// Value: a random owner token; short PX TTL renewed by the holder for the life of the session;
    /// released by compare-and-delete.
    public static func lease(_ endpointId: EndpointID) -> String { "redlock:mcp:lock:connection:" + endpointId.rawValue }

    /// `mcp:recovery:fence:{id}`: integer, incremented on every lease acquisition; the value returned is
    /// the holder's fencing number (stored as `Fence` in the state). No TTL.
    public static func fence(_ endpointId: EndpointID) -> String { recoveryPrefix + "fence:" + endpointId.rawValue }

    /// `mcp:recovery:pending:{id}`: string (the job id), set NX with a TTL by the scheduler when it
    /// publishes a job (`LuaScripts.setPendingMarker`); while present no other job is published for the
    /// endpoint. A worker publishing a retry or a hand-off job sets it (the same script, `replace`) to that
    /// job's id; either way the job is listed in `queuedJobs`. Deleted with `LuaScripts.clearPendingMarkerIfJob`
    /// when a job's outcome is settled, by `LuaScripts.forgetUnreceivedJobs` when its job was passed over, or it lapses.
    public static func pending(_ endpointId: EndpointID) -> String { recoveryPrefix + "pending:" + endpointId.rawValue }

    /// `mcp:recovery:queued`: sorted set, member = `QueuedJob.member` (`jobId endpointId`), score = when the
    /// job enters the jobs queue (Redis server time, milliseconds; a retry's after its delay). Added with
    /// the job's pending marker (`LuaScripts.setPendingMarker`), removed when a worker receives the job
    /// (`LuaScripts.recordJobReceived`) or when the scheduler finds it gone (`LuaScripts.forgetUnreceivedJobs`).
    public static let queuedJobs = recoveryPrefix + "queued"

    /// `mcp:recovery:queued:received`: integer, the latest entry time of a job a worker received; no TTL.
    /// A queued job that entered well before this mark was passed over, as the queue hands jobs out in order (see `QueuedJob`).
    public static let jobsReceivedThrough = recoveryPrefix + "queued:received"

    /// `mcp:recovery:parked`: hash, field = endpoint id, value = `ParkedEndpoint` JSON (reason, kind,
    /// parkedAt, until, endpointUpdatedAt). Written when a job is dead-lettered; fields are removed by
    /// the scheduler when the park ends, or by an operator's `dead retry`.
    public static let parked = recoveryPrefix + "parked"

    /// `mcp:recovery:last-attempt`: hash, field = endpoint id, value = ISO-8601 time the scheduler last
    /// published a job for it (the `ReconnectCooldownSeconds` clock; survives a change of leader). The
    /// scheduler removes the fields of endpoints no longer enabled.
    public static let lastAttempt = recoveryPrefix + "last-attempt"

    /// `mcp:recovery:held`: sorted set, member = endpoint id, score = its lease deadline (Redis server time,
    /// milliseconds). The sessions this pool holds with a state written: added by
    /// `LuaScripts.writeStateIfLeaseHeld`, moved by `LuaScripts.renewSessionLeases`, removed with the
    /// state or the lease. Lets the scheduler count a session live without reading its keys while the
    /// deadline is ahead.
    public static let heldSessions = recoveryPrefix + "held"

    /// `mcp:recovery:held:version`: integer, incremented whenever a member joins or leaves `heldSessions`
    /// (not when a deadline moves); created at the server's time in microseconds, so a flushed database
    /// never repeats a version. The scheduler re-reads the members only when it changed.
    public static let heldSessionsVersion = recoveryPrefix + "held:version"

    /// `mcp:recovery:scheduler:leader`: string, the leading scheduler's random token; SET NX PX, renewed
    /// by the leader, released by compare-and-delete. Only the holder runs reconcile cycles.
    public static let schedulerLeader = recoveryPrefix + "scheduler:leader"

    /// `mcp:recovery:workers`: hash, field = worker instance id, value = `WorkerRecord` JSON (host, pid,
    /// started, last heartbeat, sessions, capacity). Entries older than their heartbeat window are stale;
    /// the scheduler removes those whose `workerAlive` key is gone, on its full-read cycles.
    public static let workers = recoveryPrefix + "workers"

    /// `mcp:recovery:worker:{instanceId}`: string (the last heartbeat time) with a PX TTL renewed by the
    /// worker; its absence means the worker is gone.
    public static func workerAlive(_ instanceId: String) -> String { recoveryPrefix + "worker:" + instanceId }

    /// `mcp:recovery:results:{id}`: list of the endpoint's latest `JobResult` JSON bodies, newest first,
    /// at most `recentResultsKept`; written by the scheduler's results consumer, read by the console.
    /// Expires a week after the last result.
    public static func recentResults(_ endpointId: EndpointID) -> String { recoveryPrefix + "results:" + endpointId.rawValue }

    /// Results kept per endpoint in `recentResults`.
    public static let recentResultsKept = 20

    /// `mcp:recovery:outcomes:{minute}`: hash, field = outcome, value = results received in that minute
    /// (Unix time / 60); expires after two hours. The console's recoveries-and-failures chart.
    public static func outcomesInMinute(_ minute: Int64) -> String { recoveryPrefix + "outcomes:" + String(minute) }

    /// `mcp:recovery:scheduler:last-cycle`: string, the leader's latest `CycleSummary` JSON (when, how
    /// long, the report's counts); expires after a day. Read by the console's overview.
    public static let lastCycle = recoveryPrefix + "scheduler:last-cycle"
}

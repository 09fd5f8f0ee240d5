/// The Lua scripts of the lease and state protocol, as source text. The Redis layer loads them
/// (SCRIPT LOAD) and calls them with EVALSHA; each documents its KEYS, ARGV and reply.
public enum LuaScripts {
    /// Acquires a lease and issues its fencing number.
    /// KEYS[1] lease key, KEYS[2] fence key; ARGV[1] owner token, ARGV[2] TTL in milliseconds.
    /// Reply: the new fencing number (≥ 1), or 0 when the lease is held by anyone (including this token).
    public static let acquireLease = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          return redis.call('INCR', KEYS[2])
        end
        return 0
        """

    /// Renews several leases at once: PEXPIRE each key only while its value is its token.
    /// KEYS[i] lease keys; ARGV[1] TTL in milliseconds, ARGV[i+1] the token for KEYS[i].
    /// Reply: an array of the lease keys that were lost (absent or held by another token).
    public static let renewLeases = """
        local lost = {}
        for i, key in ipairs(KEYS) do
          if redis.call('GET', key) == ARGV[i + 1] then
            redis.call('PEXPIRE', key, ARGV[1])
          else
            lost[#lost + 1] = key
          end
        end
        return lost
        """

    /// Releases a lease only if it still holds the token (compare-and-delete).
    /// KEYS[1] lease key; ARGV[1] owner token. Reply: 1 released, 0 not held by this token.
    public static let releaseLease = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """

    /// Writes the endpoint's state only while the writer holds its lease, and indexes it.
    /// KEYS[1] lease key, KEYS[2] state key, KEYS[3] `mcp:connections:all`;
    /// ARGV[1] owner token, ARGV[2] state JSON, ARGV[3] endpoint id. Reply: 1 written, 0 lease not held.
    public static let writeStateIfLeaseHeld = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('SET', KEYS[2], ARGV[2])
        redis.call('SADD', KEYS[3], ARGV[3])
        return 1
        """

    /// Deletes the endpoint's state only while the caller holds its lease, and unindexes it.
    /// KEYS[1] lease key, KEYS[2] state key, KEYS[3] `mcp:connections:all`;
    /// ARGV[1] owner token, ARGV[2] endpoint id. Reply: 1 deleted, 0 lease not held.
    public static let deleteStateIfLeaseHeld = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('DEL', KEYS[2])
        redis.call('SREM', KEYS[3], ARGV[2])
        return 1
        """

    /// Deletes a state the scheduler judged stale, only if it is still the value it judged (so a fresh
    /// write by a new holder survives), and unindexes it.
    /// KEYS[1] state key, KEYS[2] `mcp:connections:all`; ARGV[1] the value read, ARGV[2] endpoint id.
    /// Reply: 1 deleted, 0 changed since it was read.
    public static let deleteStateIfUnchanged = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('DEL', KEYS[1])
        redis.call('SREM', KEYS[2], ARGV[2])
        return 1
        """

    /// Removes an id from `mcp:connections:all` only when it has no state.
    /// KEYS[1] state key, KEYS[2] `mcp:connections:all`; ARGV[1] endpoint id. Reply: 1 removed, 0 kept.
    public static let removeIndexEntryIfNoState = """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          return 0
        end
        return redis.call('SREM', KEYS[2], ARGV[1])
        """

    /// Sets the pending-job marker unless one exists.
    /// KEYS[1] pending key; ARGV[1] job id, ARGV[2] TTL in milliseconds. Reply: 1 set, 0 already pending.
    public static let setPendingMarker = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          return 1
        end
        return 0
        """

    /// Deletes the pending-job marker only if it still names this job (a newer job's marker survives).
    /// KEYS[1] pending key; ARGV[1] job id. Reply: 1 deleted, 0 absent or another job's.
    public static let clearPendingMarkerIfJob = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """

    /// Every script with a name, for loading them all at start.
    public static let all: [(name: String, source: String)] = [
        ("acquireLease", acquireLease),
        ("renewLeases", renewLeases),
        ("releaseLease", releaseLease),
        ("writeStateIfLeaseHeld", writeStateIfLeaseHeld),
        ("deleteStateIfLeaseHeld", deleteStateIfLeaseHeld),
        ("deleteStateIfUnchanged", deleteStateIfUnchanged),
        ("removeIndexEntryIfNoState", removeIndexEntryIfNoState),
        ("setPendingMarker", setPendingMarker),
        ("clearPendingMarkerIfJob", clearPendingMarkerIfJob),
    ]
}

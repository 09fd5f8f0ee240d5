/// The Lua scripts of the lease and state protocol, as source text. The Redis layer loads them
/// (SCRIPT LOAD) and calls them with EVALSHA; each documents its KEYS, ARGV and reply.
public enum LuaScripts {
    /// Acquires a lease and issues its fencing number, unless the endpoint has a live session that is not
    /// the pool's: a state without `Owner: "pool"`, `Status` Connected or Connecting, and a `LastHeartbeat`
    /// younger than the heartbeat timeout on the server's clock (the original platform releases its lock
    /// once connected, so the lease alone would not keep the pool off its session).
    /// KEYS[1] lease key, KEYS[2] fence key, KEYS[3] state key; ARGV[1] owner token, ARGV[2] TTL in
    /// milliseconds, ARGV[3] heartbeat timeout in milliseconds (0: the state is not looked at).
    /// Reply: the new fencing number (≥ 1), 0 when the lease is held by anyone (including this token),
    /// -1 when a live session of another owner refused it.
    public static let acquireLease = """
        local timeout = tonumber(ARGV[3] or '0') or 0
        if timeout > 0 and KEYS[3] then
          local value = redis.call('GET', KEYS[3])
          if value then
            local ok, state = pcall(cjson.decode, value)
            if ok and type(state) == 'table' and state['Owner'] ~= 'pool' then
              local status = state['Status']
              if type(status) == 'string' then status = string.lower(status) end
              if status == 0 or status == 2 or status == 'connected' or status == 'connecting' then
                \(nowMilliseconds)
                \(isoMilliseconds)
                local beat = isoMilliseconds(state['LastHeartbeat'])
                if beat and beat + timeout > now then
                  return -1
                end
              end
            end
          end
        end
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

    /// Writes the endpoint's state only while the writer holds its lease, indexes it, and records the
    /// session in the held-sessions index with its lease deadline.
    /// KEYS[1] lease key, KEYS[2] state key, KEYS[3] `mcp:connections:all`, KEYS[4] held-sessions index,
    /// KEYS[5] held-sessions version; ARGV[1] owner token, ARGV[2] state JSON, ARGV[3] endpoint id.
    /// Reply: 1 written, 0 lease not held.
    public static let writeStateIfLeaseHeld = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('SET', KEYS[2], ARGV[2])
        redis.call('SADD', KEYS[3], ARGV[3])
        \(nowMilliseconds)
        \(bumpVersion)
        if redis.call('ZADD', KEYS[4], now + redis.call('PTTL', KEYS[1]), ARGV[3]) == 1 then
          bump(KEYS[5])
        end
        return 1
        """

    /// `writeStateIfLeaseHeld` for many endpoints in one call (a worker's heartbeats): each state is
    /// written only while its writer holds its lease; the version moves once if any session joined the index.
    /// KEYS[1] `mcp:connections:all`, KEYS[2] held-sessions index, KEYS[3] held-sessions version, then per
    /// endpoint i its lease key KEYS[2i + 2] and state key KEYS[2i + 3]; ARGV per endpoint i: owner token
    /// ARGV[3i - 2], state JSON ARGV[3i - 1], endpoint id ARGV[3i].
    /// Reply: an array of the endpoint ids whose lease was not held (nothing written for them).
    public static let writeStatesIfLeasesHeld = """
        \(nowMilliseconds)
        \(bumpVersion)
        local refused = {}
        local joined = false
        for i = 1, (#KEYS - 3) / 2 do
          local lease = KEYS[2 * i + 2]
          local id = ARGV[3 * i]
          if redis.call('GET', lease) == ARGV[3 * i - 2] then
            redis.call('SET', KEYS[2 * i + 3], ARGV[3 * i - 1])
            redis.call('SADD', KEYS[1], id)
            if redis.call('ZADD', KEYS[2], now + redis.call('PTTL', lease), id) == 1 then
              joined = true
            end
          else
            refused[#refused + 1] = id
          end
        end
        if joined then
          bump(KEYS[3])
        end
        return refused
        """

    /// Ends a session's record in one step, only while the caller holds its lease: deletes the state,
    /// unindexes it, drops it from the held-sessions index, and releases the lease (so no heartbeat of the
    /// holder can write the state again after it went).
    /// KEYS[1] lease key, KEYS[2] state key, KEYS[3] `mcp:connections:all`, KEYS[4] held-sessions index,
    /// KEYS[5] held-sessions version; ARGV[1] owner token, ARGV[2] endpoint id. Reply: 1 released, 0 lease not held.
    public static let releaseSession = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('DEL', KEYS[1])
        redis.call('DEL', KEYS[2])
        redis.call('SREM', KEYS[3], ARGV[2])
        \(bumpVersion)
        if redis.call('ZREM', KEYS[4], ARGV[2]) == 1 then
          bump(KEYS[5])
        end
        return 1
        """

    /// Deletes a state the scheduler judged stale, only if it is still the value it judged (so a fresh
    /// write by a new holder survives), unindexes it, and drops it from the held-sessions index.
    /// KEYS[1] state key, KEYS[2] `mcp:connections:all`, KEYS[3] held-sessions index, KEYS[4] held-sessions
    /// version; ARGV[1] the value read, ARGV[2] endpoint id. Reply: 1 deleted, 0 changed since it was read.
    public static let deleteStateIfUnchanged = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('DEL', KEYS[1])
        redis.call('SREM', KEYS[2], ARGV[2])
        \(bumpVersion)
        if redis.call('ZREM', KEYS[3], ARGV[2]) == 1 then
          bump(KEYS[4])
        end
        return 1
        """

    /// Renews the leases of held sessions and moves their deadlines in the held-sessions index: PEXPIRE
    /// each key only while its value is its token; `ZADD XX` never adds a session that has no state.
    /// KEYS[1] held-sessions index, KEYS[i+1] lease keys; ARGV[1] TTL in milliseconds, then for each lease
    /// its token and its endpoint id. Reply: an array of the lease keys that were lost.
    public static let renewSessionLeases = """
        \(nowMilliseconds)
        local deadline = now + tonumber(ARGV[1])
        local lost = {}
        for i = 2, #KEYS do
          local key = KEYS[i]
          if redis.call('GET', key) == ARGV[2 * i - 2] then
            redis.call('PEXPIRE', key, ARGV[1])
            redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[2 * i - 1])
          else
            lost[#lost + 1] = key
          end
        end
        return lost
        """

    /// Releases an endpoint's lease only if it still holds the token, and drops the session from the
    /// held-sessions index. KEYS[1] lease key, KEYS[2] held-sessions index, KEYS[3] held-sessions version;
    /// ARGV[1] owner token, ARGV[2] endpoint id. Reply: 1 released, 0 not held by this token.
    public static let releaseSessionLease = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('DEL', KEYS[1])
        \(bumpVersion)
        if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
          bump(KEYS[3])
        end
        return 1
        """

    /// The scheduler's read of the held-sessions index, atomic: its version, the server's time, the
    /// sessions whose lease deadline has passed, and every member unless the version is the one the
    /// caller already has. KEYS[1] held-sessions index, KEYS[2] held-sessions version; ARGV[1] the
    /// version the caller holds (empty for none).
    /// Reply: {version or '', now, lapsed ids} or {version or '', now, lapsed ids, all members}.
    public static let observeHeldSessions = """
        \(nowMilliseconds)
        local version = redis.call('GET', KEYS[2]) or ''
        local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
        if version ~= '' and version == ARGV[1] then
          return {version, now, lapsed}
        end
        return {version, now, lapsed, redis.call('ZRANGE', KEYS[1], 0, -1)}
        """

    /// How many held sessions' lease deadlines passed after a time and up to now (the scheduler's watch
    /// for a worker that died between two cycles). KEYS[1] held-sessions index; ARGV[1] the time, server
    /// milliseconds. Reply: {now, count}.
    public static let countLapsesSince = """
        \(nowMilliseconds)
        return {now, redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], now)}
        """

    /// Drops sessions from the held-sessions index whose lease deadline has passed (a renewal since the
    /// scheduler looked keeps them). KEYS[1] held-sessions index, KEYS[2] held-sessions version;
    /// ARGV endpoint ids. Reply: how many were dropped.
    public static let forgetLapsedSessions = """
        \(nowMilliseconds)
        \(bumpVersion)
        local dropped = 0
        for _, id in ipairs(ARGV) do
          local deadline = redis.call('ZSCORE', KEYS[1], id)
          if deadline and tonumber(deadline) <= now then
            dropped = dropped + redis.call('ZREM', KEYS[1], id)
          end
        end
        if dropped > 0 then
          bump(KEYS[2])
        end
        return dropped
        """

    /// Settles a recovered job once its state is written: clears the pending marker if it names the job,
    /// and, only while the token holds the lease, ends the park and the cooldown clock.
    /// KEYS[1] lease, KEYS[2] pending marker, KEYS[3] parked hash, KEYS[4] last-attempt hash; ARGV[1] owner
    /// token, ARGV[2] job id, ARGV[3] endpoint id.
    /// Reply: 1 settled as recovered, 0 lease not held (only the marker was touched).
    public static let settleRecovered = """
        if redis.call('GET', KEYS[2]) == ARGV[2] then
          redis.call('DEL', KEYS[2])
        end
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('HDEL', KEYS[3], ARGV[3])
        redis.call('HDEL', KEYS[4], ARGV[3])
        return 1
        """

    /// Settles a job only while its pending marker still names it: deletes the marker and, when given,
    /// parks the endpoint. KEYS[1] pending marker, KEYS[2] parked hash; ARGV[1] job id, ARGV[2] endpoint
    /// id, ARGV[3] park entry JSON (empty: no park). Reply: 1 settled, 0 the marker names another job or none.
    public static let settleIfPending = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('DEL', KEYS[1])
        if ARGV[3] ~= '' then
          redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
        end
        return 1
        """

    /// Lua: `now`, the server's time in milliseconds.
    static let nowMilliseconds = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        """

    /// Lua: `isoMilliseconds(text)`, an ISO-8601 date-time (fraction optional; `Z`, `±HH:MM`, `±HHMM` or
    /// nothing, which means UTC) as milliseconds since 1970, or nil when it is not one.
    static let isoMilliseconds = """
        local function isoMilliseconds(text)
          if type(text) ~= 'string' then return nil end
          local y, mo, d, h, mi, s, rest = string.match(text, '^(%d%d%d%d)-(%d%d)-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$')
          if not y then return nil end
          y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
          local millis = 0
          local fraction, zone = string.match(rest, '^%.(%d+)(.*)$')
          if fraction then
            millis = math.floor(tonumber(string.sub(fraction .. '000', 1, 3)))
            rest = zone
          end
          local offset = 0
          if rest ~= '' and rest ~= 'Z' and rest ~= 'z' then
            local sign, oh, om = string.match(rest, '^([+-])(%d%d):?(%d%d)$')
            if not sign then
              sign, oh = string.match(rest, '^([+-])(%d%d)$')
              om = '00'
            end
            if not sign then return nil end
            offset = (tonumber(oh) * 60 + tonumber(om)) * 60000
            if sign == '-' then offset = -offset end
          end
          if mo <= 2 then y = y - 1 end
          local era = math.floor(y / 400)
          local yoe = y - era * 400
          local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1
          local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
          return ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60000 + tonumber(s) * 1000 + millis - offset
        end
        """

    /// Lua: `bump(key)`, the held-sessions version's increment. A version created afresh (a new or
    /// flushed database), or replacing a value that is not an integer, starts at the server's time in
    /// microseconds, so it never repeats an earlier one.
    static let bumpVersion = """
        local function bump(key)
          local version = redis.pcall('INCR', key)
          if type(version) ~= 'number' or version == 1 then
            local started = redis.call('TIME')
            redis.call('SET', key, started[1] .. string.sub('000000' .. started[2], -6))
          end
        end
        """

    /// Removes an id from `mcp:connections:all` only when it has no state.
    /// KEYS[1] state key, KEYS[2] `mcp:connections:all`; ARGV[1] endpoint id. Reply: 1 removed, 0 kept.
    public static let removeIndexEntryIfNoState = """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          return 0
        end
        return redis.call('SREM', KEYS[2], ARGV[1])
        """

    /// Sets the pending-job marker unless one exists (or whatever it held, with ARGV[5] `replace`) and,
    /// with KEYS[2], lists the job as queued and unreceived at the server's time plus its delay.
    /// KEYS[1] pending key, KEYS[2] `mcp:recovery:queued` (optional); ARGV[1] job id, ARGV[2] TTL in
    /// milliseconds, ARGV[3] the `QueuedJob.member`, ARGV[4] milliseconds until the job enters the jobs
    /// queue, ARGV[5] `replace` or `nx`. Reply: 1 set, 0 already pending.
    public static let setPendingMarker = """
        local set
        if ARGV[5] == 'replace' then
          set = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        else
          set = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
        end
        if not set then
          return 0
        end
        if KEYS[2] then
          local now = redis.call('TIME')
          local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
          redis.call('ZADD', KEYS[2], ms + tonumber(ARGV[4] or '0'), ARGV[3])
        end
        return 1
        """

    /// A worker received a job: it leaves the queued index, and the received-through mark moves up to
    /// the time it entered the jobs queue. KEYS[1] `mcp:recovery:queued`, KEYS[2]
    /// `mcp:recovery:queued:received`; ARGV[1] the job's member. Reply: 1 it was listed, 0 not.
    public static let recordJobReceived = """
        local entered = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not entered then
          return 0
        end
        redis.call('ZREM', KEYS[1], ARGV[1])
        if tonumber(entered) > tonumber(redis.call('GET', KEYS[2]) or '0') then
          redis.call('SET', KEYS[2], entered)
        end
        return 1
        """

    /// The queued jobs that entered more than ARGV[1] milliseconds before the received-through mark, at
    /// most ARGV[2] of them, oldest first; first drops those that entered more than ARGV[3] milliseconds
    /// ago (their markers have lapsed), so the index stays small while no worker receives anything.
    /// KEYS[1] `mcp:recovery:queued`, KEYS[2] `mcp:recovery:queued:received`. Reply: member, entered-at, ...
    public static let unreceivedJobs = """
        local now = redis.call('TIME')
        local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[3]))
        local through = tonumber(redis.call('GET', KEYS[2]) or '0')
        if through == 0 then
          return {}
        end
        return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', through - tonumber(ARGV[1]), 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
        """

    /// Drops queued entries, and each one's pending marker while it still names the job.
    /// KEYS[1] `mcp:recovery:queued`, KEYS[i+1] entry i's pending key; ARGV[2i-1] entry i's member, ARGV[2i]
    /// its job id. Reply: how many markers were deleted.
    public static let forgetUnreceivedJobs = """
        local cleared = 0
        for i = 1, #KEYS - 1 do
          redis.call('ZREM', KEYS[1], ARGV[2 * i - 1])
          if redis.call('GET', KEYS[i + 1]) == ARGV[2 * i] then
            cleared = cleared + redis.call('DEL', KEYS[i + 1])
          end
        end
        return cleared
        """

    /// Deletes the pending-job marker only if it still names this job (a newer job's marker survives).
    /// KEYS[1] pending key; ARGV[1] job id. Reply: 1 deleted, 0 absent or another job's.
    public static let clearPendingMarkerIfJob = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """

    /// Removes worker records whose liveness key is gone (read as gone by the scheduler, and checked
    /// again here, so a worker that came back meanwhile keeps its record).
    /// KEYS[1] `mcp:recovery:workers`, KEYS[i+1] worker i's liveness key; ARGV[i] worker i's instance id.
    /// Reply: how many records were removed.
    public static let forgetWorkersWithoutLiveness = """
        local removed = 0
        for i, id in ipairs(ARGV) do
          if redis.call('EXISTS', KEYS[i + 1]) == 0 then
            removed = removed + redis.call('HDEL', KEYS[1], id)
          end
        end
        return removed
        """

    /// Every script with a name, for loading them all at start.
    public static let all: [(name: String, source: String)] = [
        ("acquireLease", acquireLease),
        ("renewLeases", renewLeases),
        ("releaseLease", releaseLease),
        ("renewSessionLeases", renewSessionLeases),
        ("releaseSessionLease", releaseSessionLease),
        ("observeHeldSessions", observeHeldSessions),
        ("countLapsesSince", countLapsesSince),
        ("forgetLapsedSessions", forgetLapsedSessions),
        ("writeStateIfLeaseHeld", writeStateIfLeaseHeld),
        ("writeStatesIfLeasesHeld", writeStatesIfLeasesHeld),
        ("releaseSession", releaseSession),
        ("deleteStateIfUnchanged", deleteStateIfUnchanged),
        ("removeIndexEntryIfNoState", removeIndexEntryIfNoState),
        ("setPendingMarker", setPendingMarker),
        ("recordJobReceived", recordJobReceived),
        ("unreceivedJobs", unreceivedJobs),
        ("forgetUnreceivedJobs", forgetUnreceivedJobs),
        ("clearPendingMarkerIfJob", clearPendingMarkerIfJob),
        ("settleRecovered", settleRecovered),
        ("settleIfPending", settleIfPending),
        ("forgetWorkersWithoutLiveness", forgetWorkersWithoutLiveness),
    ]
}

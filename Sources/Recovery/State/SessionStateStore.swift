import Foundation
import RecoveryCore
import RedisClient

/// The pool's Redis state (SPEC §5) behind named operations: leases, session states, pending markers,
/// parks, cooldown clocks and the scheduler's leader lease. Every write that depends on holding a lease
/// runs as one Lua script that checks the lease token.
public struct SessionStateStore: Sendable {
    public let redis: RedisClient

    static let acquireLease = RedisScript(LuaScripts.acquireLease)
    static let renewLeases = RedisScript(LuaScripts.renewLeases)
    static let releaseLease = RedisScript(LuaScripts.releaseLease)
    static let renewSessionLeases = RedisScript(LuaScripts.renewSessionLeases)
    static let releaseSessionLease = RedisScript(LuaScripts.releaseSessionLease)
    static let observeHeld = RedisScript(LuaScripts.observeHeldSessions)
    static let forgetLapsed = RedisScript(LuaScripts.forgetLapsedSessions)
    static let countLapses = RedisScript(LuaScripts.countLapsesSince)
    static let writeState = RedisScript(LuaScripts.writeStateIfLeaseHeld)
    static let writeStatesBatch = RedisScript(LuaScripts.writeStatesIfLeasesHeld)
    /// States written by one call of `writeStatesIfLeasesHeld` (a heartbeat of thousands is a few calls
    /// in one round trip, none holding Redis long).
    static let stateWriteChunk = 500
    static let deleteState = RedisScript(LuaScripts.deleteStateIfLeaseHeld)
    static let deleteStateIfUnchanged = RedisScript(LuaScripts.deleteStateIfUnchanged)
    static let removeIndexEntry = RedisScript(LuaScripts.removeIndexEntryIfNoState)
    static let setPending = RedisScript(LuaScripts.setPendingMarker)
    static let clearPendingIfJob = RedisScript(LuaScripts.clearPendingMarkerIfJob)
    static let forgetWorkers = RedisScript(LuaScripts.forgetWorkersWithoutLiveness)

    /// Replicas that must acknowledge a taken lease (`WAIT`, within `acquireReplicaTimeout`) before the
    /// acquire reports it taken; 0 skips the wait. A lease the replicas did not acknowledge is released
    /// and the acquire fails: a Sentinel failover cannot lose a lease whose session is open.
    public var acquireReplicas = 0
    public var acquireReplicaTimeout = Duration.milliseconds(250)

    public init(redis: RedisClient, acquireReplicas: Int = 0) {
        self.redis = redis
        self.acquireReplicas = acquireReplicas
    }

    // MARK: leases

    /// Takes the endpoint's lease for `token`; returns the fencing number, or nil when someone holds it.
    public func acquireLease(serverId: String, token: String, ttl: Duration) async throws -> Int? {
        try await acquireLease(serverId: serverId, token: token, ttl: ttl, foreignHeartbeatTimeout: nil).fence
    }

    /// Takes the endpoint's lease for `token`, unless someone holds it or, with `foreignHeartbeatTimeout`,
    /// a live session that is not the pool's has a heartbeat younger than that (one script, so the
    /// check and the take are one atomic step).
    public func acquireLease(serverId: String, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> LeaseAcquisition {
        let keys = [RedisKeys.lease(serverId), RedisKeys.fence(serverId), RedisKeys.connectionState(serverId)]
        let arguments: [any RedisArgumentConvertible] = [token, Self.milliseconds(ttl), foreignHeartbeatTimeout.map(Self.milliseconds) ?? 0]
        guard acquireReplicas > 0 else {
            let reply = try await redis.evaluate(Self.acquireLease, keys: keys, arguments: arguments)
            guard let value = reply.integer else { throw unexpected("acquire lease", reply) }
            return LeaseAcquisition(scriptReply: value)
        }
        // The WAIT rides in the same round trip: it returns once the replicas have everything before it.
        let timeout = Self.milliseconds(acquireReplicaTimeout)
        let replies = try await pipelineLoadingScripts(
            [RedisCommand("EVALSHA", arguments: [Self.acquireLease.sha1, keys.count] + keys + arguments),
             RedisCommand("WAIT", acquireReplicas, timeout)],
            scripts: [LuaScripts.acquireLease])
        guard let value = replies[0].integer else { throw unexpected("acquire lease", replies[0]) }
        let acquisition = LeaseAcquisition(scriptReply: value)
        guard acquisition.fence != nil else { return acquisition }
        let acknowledged = replies[1].integer ?? 0
        guard acknowledged >= Int64(acquireReplicas) else {
            try? await releaseLease(serverId: serverId, token: token)
            throw RedisStateError(
                operation: "acquire lease",
                detail: "acknowledged by \(acknowledged) of \(acquireReplicas) replicas within \(timeout) ms; released unused")
        }
        return acquisition
    }

    /// Renews every lease in `leases` (server id → token) in one script, moving their deadlines in the
    /// held-sessions index; returns the ids whose lease is lost.
    public func renewLeases(_ leases: [String: String], ttl: Duration) async throws -> Set<String> {
        guard !leases.isEmpty else { return [] }
        let ordered = leases.sorted { $0.key < $1.key }
        var arguments: [any RedisArgumentConvertible] = [Self.milliseconds(ttl)]
        arguments.reserveCapacity(1 + ordered.count * 2)
        for (serverId, token) in ordered { arguments += [token, serverId] }
        let reply = try await redis.evaluate(
            Self.renewSessionLeases, keys: [RedisKeys.heldSessions] + ordered.map { RedisKeys.lease($0.key) },
            arguments: arguments)
        guard let lost = reply.array else { throw unexpected("renew leases", reply) }
        let prefix = RedisKeys.lease("")
        return Set(lost.compactMap(\.string).map { String($0.dropFirst(prefix.count)) })
    }

    /// Releases the lease if `token` still holds it (and drops the session from the held-sessions index);
    /// returns whether it did.
    @discardableResult
    public func releaseLease(serverId: String, token: String) async throws -> Bool {
        let reply = try await redis.evaluate(
            Self.releaseSessionLease, keys: [RedisKeys.lease(serverId), RedisKeys.heldSessions, RedisKeys.heldSessionsVersion],
            arguments: [token, serverId])
        return reply.integer == 1
    }

    // MARK: session states

    /// Writes the endpoint's state if `token` holds its lease; false when the lease is not held.
    public func writeState(_ state: ConnectionState, token: String) async throws -> Bool {
        let reply = try await redis.evaluate(
            Self.writeState,
            keys: [
                RedisKeys.lease(state.serverId), RedisKeys.connectionState(state.serverId), RedisKeys.connectionIndex,
                RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            ],
            arguments: [token, state.encoded(), state.serverId])
        return reply.integer == 1
    }

    /// The `EVALSHA` of `writeStateIfLeaseHeld` for one state, for pipelines.
    static func writeStateCommand(_ state: ConnectionState, token: String) -> RedisCommand {
        RedisCommand("EVALSHA", arguments: [
            Self.writeState.sha1, 5, RedisKeys.lease(state.serverId), RedisKeys.connectionState(state.serverId),
            RedisKeys.connectionIndex, RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            token, state.encoded(), state.serverId,
        ])
    }

    /// Writes many states in one round trip (heartbeats); returns the ids whose lease is not held.
    public func writeStates(_ states: [(state: ConnectionState, token: String)]) async throws -> Set<String> {
        try await writeStates(states.map { StateWrite(serverId: $0.state.serverId, value: $0.state.encoded(), token: $0.token) })
    }

    /// Writes many encoded states in one round trip, `stateWriteChunk` to a script call; returns the ids
    /// whose lease is not held (nothing is written for them).
    public func writeStates(_ writes: [StateWrite]) async throws -> Set<String> {
        guard !writes.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        var start = 0
        while start < writes.count {
            let chunk = writes[start..<min(start + Self.stateWriteChunk, writes.count)]
            start += Self.stateWriteChunk
            var arguments: [any RedisArgumentConvertible] = [
                Self.writeStatesBatch.sha1, 3 + 2 * chunk.count,
                RedisKeys.connectionIndex, RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            ]
            arguments.reserveCapacity(5 + 5 * chunk.count)
            for write in chunk { arguments += [RedisKeys.lease(write.serverId), RedisKeys.connectionState(write.serverId)] }
            for write in chunk { arguments += [write.token, write.value, write.serverId] }
            commands.append(RedisCommand("EVALSHA", arguments: arguments))
        }
        let replies = try await pipelineLoadingScripts(commands, scripts: [LuaScripts.writeStatesIfLeasesHeld])
        var refused = Set<String>()
        for reply in replies {
            if let message = reply.errorMessage { throw RedisStateError(operation: "write states", detail: message) }
            guard let ids = reply.array else { throw unexpected("write states", reply) }
            for id in ids { if let serverId = id.string { refused.insert(serverId) } }
        }
        return refused
    }

    /// Deletes the endpoint's state if `token` holds its lease.
    @discardableResult
    public func deleteState(serverId: String, token: String) async throws -> Bool {
        let reply = try await redis.evaluate(
            Self.deleteState,
            keys: [
                RedisKeys.lease(serverId), RedisKeys.connectionState(serverId), RedisKeys.connectionIndex,
                RedisKeys.heldSessions, RedisKeys.heldSessionsVersion,
            ],
            arguments: [token, serverId])
        return reply.integer == 1
    }

    /// Deletes a state judged stale if it still holds `storedValue`.
    @discardableResult
    public func deleteStaleState(_ stale: StaleState) async throws -> Bool {
        try await deleteStaleStates([stale]) == [stale.serverId]
    }

    /// Deletes states judged stale, each only if it still holds its `storedValue`, in one round trip;
    /// returns the ids deleted (a state rewritten since it was read survives).
    @discardableResult
    public func deleteStaleStates(_ stale: [StaleState]) async throws -> Set<String> {
        guard !stale.isEmpty else { return [] }
        let commands = stale.map { entry in
            RedisCommand("EVALSHA", arguments: [
                Self.deleteStateIfUnchanged.sha1, 4, RedisKeys.connectionState(entry.serverId), RedisKeys.connectionIndex,
                RedisKeys.heldSessions, RedisKeys.heldSessionsVersion, entry.storedValue, entry.serverId,
            ])
        }
        let replies = try await pipelineLoadingScripts(commands, scripts: [LuaScripts.deleteStateIfUnchanged])
        var deleted = Set<String>()
        for (entry, reply) in zip(stale, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "delete stale states", detail: message) }
            if reply.integer == 1 { deleted.insert(entry.serverId) }
        }
        return deleted
    }

    /// Removes an index entry that has no state.
    public func removeIndexEntry(serverId: String) async throws {
        try await redis.evaluate(
            Self.removeIndexEntry, keys: [RedisKeys.connectionState(serverId), RedisKeys.connectionIndex], arguments: [serverId])
    }

    /// The state of one endpoint, as stored.
    public func state(serverId: String) async throws -> StateReading {
        let value = try await redis.get(RedisKeys.connectionState(serverId))
        return StateReading(stored: value.map { String(decoding: $0, as: UTF8.self) })
    }

    // MARK: reconcile reads

    /// Everything a reconcile pass needs from Redis for `enabled`, in a fixed number of round trips: the
    /// held-sessions index (its members only when they changed since `cache`), on a full read the index of
    /// states, then one pipeline of MGETs (states, leases, pending markers of each chunk of the ids read key
    /// by key) with the parks and the cooldown clocks. A full read reads every enabled id and every member of both
    /// indexes; otherwise the enabled ids the held-sessions index vouches for are not read.
    public func observe(enabled: [EnabledEndpoint], cache: inout HeldSessionsCache, fullRead: Bool) async throws -> RedisObservation {
        let heldReply = try await redis.evaluate(
            Self.observeHeld, keys: [RedisKeys.heldSessions, RedisKeys.heldSessionsVersion], arguments: [cache.version])
        let reading = try Self.heldReading(heldReply)
        let vouching = cache.apply(reading)

        var indexed = Set<String>()
        let scope: ReconcileScope
        if fullRead {
            let indexReply = try await redis.send("SMEMBERS", RedisKeys.connectionIndex)
            indexed = Set((indexReply.array ?? []).compactMap(\.string))
            var alsoRead = indexed
            for id in vouching.slots.keys { alsoRead.insert(id) }
            scope = ReconcileScope(enabled: enabled, held: HeldSessions(members: [], lapsed: vouching.lapsed), alsoRead: alsoRead)
        } else {
            scope = ReconcileScope(enabled: enabled, held: vouching)
        }
        let ids = scope.idsToRead

        // Per chunk of ids: MGET of their states, of their leases and of their pending markers.
        let chunks = stride(from: 0, to: ids.count, by: Self.readChunk).map { ids[$0..<min($0 + Self.readChunk, ids.count)] }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(chunks.count * 3 + 2)
        for chunk in chunks {
            commands.append(RedisCommand("MGET", arguments: chunk.map(RedisKeys.connectionState)))
            commands.append(RedisCommand("MGET", arguments: chunk.map(RedisKeys.lease)))
            commands.append(RedisCommand("MGET", arguments: chunk.map(RedisKeys.pending)))
        }
        commands.append(RedisCommand("HGETALL", RedisKeys.parked))
        commands.append(RedisCommand("HGETALL", RedisKeys.lastAttempt))
        let replies = try await redis.pipeline(commands)
        guard replies.count == commands.count else { throw RedisStateError(operation: "observe", detail: "short pipeline reply") }

        var observations: [String: LiveObservation] = [:]
        observations.reserveCapacity(ids.count)
        var pending: [String: String] = [:]
        for (number, chunk) in chunks.enumerated() {
            let values = try (0..<3).map { part in
                let reply = replies[number * 3 + part]
                guard let values = reply.array, values.count == chunk.count else {
                    throw RedisStateError(operation: "observe", detail: reply.errorMessage ?? "short MGET reply")
                }
                return values
            }
            for (offset, id) in chunk.enumerated() {
                let stored = values[0][offset].bytes.map { String(decoding: $0, as: UTF8.self) }
                let leaseHeld = !values[1][offset].isNull
                if let jobId = values[2][offset].bytes { pending[id] = String(decoding: jobId, as: UTF8.self) }
                let isIndexed = !indexed.isEmpty && indexed.contains(id)
                if stored != nil || leaseHeld || isIndexed {
                    observations[id] = LiveObservation(state: StateReading(stored: stored), leaseHeld: leaseHeld, indexed: isIndexed)
                }
            }
        }
        let parked = ReconcileInput.decodeParked(Self.hash(replies[replies.count - 2])).parked
        let lastAttempts = ReconcileInput.decodeLastAttempts(Self.hash(replies[replies.count - 1]))
        return RedisObservation(
            observations: observations, pending: pending, parked: parked, lastAttempts: lastAttempts,
            scope: scope, keysRead: ids.count, fullRead: fullRead, serverTime: reading.serverTime)
    }

    /// Keys per MGET of a reconcile read.
    static let readChunk = 1_000

    /// Decodes the reply of `LuaScripts.observeHeldSessions`.
    static func heldReading(_ reply: RedisReply) throws -> HeldSessionsReading {
        guard let items = reply.array, items.count >= 3, let now = items[1].integer, let lapsed = items[2].array else {
            throw RedisStateError(operation: "observe held sessions", detail: reply.errorMessage ?? "unexpected reply")
        }
        let members = items.count > 3 ? Set((items[3].array ?? []).compactMap(\.string)) : nil
        return HeldSessionsReading(
            version: items[0].string ?? "", serverTime: now, lapsed: Set(lapsed.compactMap(\.string)), members: members)
    }

    /// How many held sessions' lease deadlines passed after `serverTime` (milliseconds, the Redis server's
    /// clock, as a `HeldSessionsReading` gives it) and up to now; and the server's time now.
    public func lapsesSince(serverTime: Int64) async throws -> (count: Int, serverTime: Int64) {
        let reply = try await redis.evaluate(Self.countLapses, keys: [RedisKeys.heldSessions], arguments: [serverTime])
        guard let items = reply.array, items.count == 2, let now = items[0].integer, let count = items[1].integer else {
            throw RedisStateError(operation: "count lapsed sessions", detail: reply.errorMessage ?? "unexpected reply")
        }
        return (Int(count), now)
    }

    /// Drops lapsed members from the held-sessions index (those still past their deadline); returns how many.
    @discardableResult
    public func forgetLapsedSessions(_ serverIds: [String]) async throws -> Int {
        guard !serverIds.isEmpty else { return 0 }
        let reply = try await redis.evaluate(
            Self.forgetLapsed, keys: [RedisKeys.heldSessions, RedisKeys.heldSessionsVersion], arguments: serverIds)
        return Int(reply.integer ?? 0)
    }

    // MARK: pending markers, parks, cooldowns

    /// Sets the pending marker for `serverId` unless one exists; returns whether it was set.
    public func markPending(serverId: String, jobId: String, ttl: Duration) async throws -> Bool {
        let reply = try await redis.evaluate(
            Self.setPending, keys: [RedisKeys.pending(serverId)], arguments: [jobId, Self.milliseconds(ttl)])
        return reply.integer == 1
    }

    /// Sets the pending markers of many jobs in one round trip; returns the server ids whose marker was
    /// set (the others already had a job pending).
    public func markPending(_ jobs: [(serverId: String, jobId: String)], ttl: Duration) async throws -> Set<String> {
        guard !jobs.isEmpty else { return [] }
        let milliseconds = Self.milliseconds(ttl)
        let commands = jobs.map { job in
            RedisCommand("EVALSHA", arguments: [Self.setPending.sha1, 1, RedisKeys.pending(job.serverId), job.jobId, milliseconds])
        }
        let replies = try await pipelineLoadingScripts(commands, scripts: [LuaScripts.setPendingMarker])
        var marked = Set<String>()
        for (job, reply) in zip(jobs, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "mark pending", detail: message) }
            if reply.integer == 1 { marked.insert(job.serverId) }
        }
        return marked
    }

    /// Sets (or refreshes) the pending marker whatever it held: a job re-published by a worker.
    public func refreshPending(serverId: String, jobId: String, ttl: Duration) async throws {
        try await redis.set(RedisKeys.pending(serverId), jobId, expiry: ttl)
    }

    /// Removes the pending marker only if it still names `jobId` (a newer job's marker survives).
    public func clearPending(serverId: String, ifJob jobId: String) async throws {
        try await redis.evaluate(Self.clearPendingIfJob, keys: [RedisKeys.pending(serverId)], arguments: [jobId])
    }

    /// Removes pending markers.
    public func clearPending(serverIds: [String]) async throws {
        guard !serverIds.isEmpty else { return }
        try await redis.delete(serverIds.map(RedisKeys.pending))
    }

    /// Records when jobs were published for `serverIds` (the cooldown clock).
    public func recordAttempts(serverIds: [String], at date: Date) async throws {
        guard !serverIds.isEmpty else { return }
        let stamp = Timestamp.format(date)
        var arguments: [any RedisArgumentConvertible] = [RedisKeys.lastAttempt]
        for id in serverIds { arguments += [id, stamp] }
        try await redis.send(RedisCommand("HSET", arguments: arguments))
    }

    /// Forgets when jobs were last published for `serverIds` (their sessions came up: the cooldown only
    /// spaces attempts that did not).
    public func clearAttempts(serverIds: [String]) async throws {
        guard !serverIds.isEmpty else { return }
        try await redis.send(RedisCommand("HDEL", arguments: [RedisKeys.lastAttempt] + serverIds))
    }

    /// Parks an endpoint whose job was dead-lettered.
    public func park(_ entry: ParkedEndpoint) async throws {
        try await redis.send("HSET", RedisKeys.parked, entry.serverId, entry.encoded())
    }

    /// Ends parks; returns how many existed.
    @discardableResult
    public func unpark(serverIds: [String]) async throws -> Int {
        guard !serverIds.isEmpty else { return 0 }
        let reply = try await redis.send(RedisCommand("HDEL", arguments: [RedisKeys.parked] + serverIds))
        return Int(reply.integer ?? 0)
    }

    /// Every parked endpoint.
    public func parkedEndpoints() async throws -> [String: ParkedEndpoint] {
        let reply = try await redis.send("HGETALL", RedisKeys.parked)
        return ReconcileInput.decodeParked(Self.hash(reply)).parked
    }

    // MARK: scheduler leadership

    /// Takes or keeps the scheduler leader lease for `token`; returns whether this token leads.
    public func holdLeadership(token: String, ttl: Duration) async throws -> Bool {
        let renewed = try await renewLeasesByKey([RedisKeys.schedulerLeader: token], ttl: ttl)
        if renewed { return true }
        let reply = try await redis.send("SET", RedisKeys.schedulerLeader, token, "NX", "PX", Self.milliseconds(ttl))
        return reply.string == "OK"
    }

    /// Gives up the leader lease if this token holds it.
    public func releaseLeadership(token: String) async throws {
        try await redis.evaluate(Self.releaseLease, keys: [RedisKeys.schedulerLeader], arguments: [token])
    }

    private func renewLeasesByKey(_ leases: [String: String], ttl: Duration) async throws -> Bool {
        let ordered = leases.sorted { $0.key < $1.key }
        let reply = try await redis.evaluate(
            Self.renewLeases, keys: ordered.map(\.key), arguments: [Self.milliseconds(ttl)] + ordered.map(\.value))
        return (reply.array ?? [RedisReply.null]).isEmpty
    }

    // MARK: workers

    /// Records a worker's liveness (its record in the registry hash and a key with a TTL).
    public func recordWorker(_ record: WorkerRecord, ttl: Duration) async throws {
        _ = try await redis.pipeline([
            RedisCommand("HSET", RedisKeys.workers, record.instanceId, record.encoded()),
            RedisCommand("SET", RedisKeys.workerAlive(record.instanceId), Timestamp.format(record.heartbeatAt), "PX", Self.milliseconds(ttl)),
        ])
    }

    /// Removes a worker's record (on a clean exit).
    public func removeWorker(instanceId: String) async throws {
        _ = try await redis.pipeline([
            RedisCommand("HDEL", RedisKeys.workers, instanceId),
            RedisCommand("DEL", RedisKeys.workerAlive(instanceId)),
        ])
    }

    /// The worker registry: every record of the hash, with whether its liveness key exists; two round
    /// trips (the hash, then the liveness keys in chunks).
    public func workerRegistry() async throws -> WorkerRegistry {
        let values = Self.hash(try await redis.send("HGETALL", RedisKeys.workers))
        guard !values.isEmpty else { return WorkerRegistry() }
        var registry = WorkerRegistry()
        registry.records.reserveCapacity(values.count)
        for (id, value) in values {
            // A record that does not decode still counts for liveness (and pruning), not for capacity.
            if let record = try? WorkerRecord.decode(Data(value.utf8)) { registry.records[id] = record }
        }
        let ids = values.keys.sorted()
        registry.liveness.reserveCapacity(ids.count)
        for start in stride(from: 0, to: ids.count, by: Self.readChunk) {
            let chunk = Array(ids[start..<min(start + Self.readChunk, ids.count)])
            let reply = try await redis.send(RedisCommand("MGET", arguments: chunk.map(RedisKeys.workerAlive)))
            guard let alive = reply.array, alive.count == chunk.count else {
                throw RedisStateError(operation: "read worker liveness", detail: reply.errorMessage ?? "short MGET reply")
            }
            for (id, value) in zip(chunk, alive) { registry.liveness[id] = !value.isNull }
        }
        return registry
    }

    /// Removes the records of `instanceIds` whose liveness key is still gone; returns how many.
    @discardableResult
    public func forgetWorkers(_ instanceIds: [String]) async throws -> Int {
        guard !instanceIds.isEmpty else { return 0 }
        let reply = try await redis.evaluate(
            Self.forgetWorkers, keys: [RedisKeys.workers] + instanceIds.map(RedisKeys.workerAlive), arguments: instanceIds)
        guard let removed = reply.integer else { throw unexpected("forget workers", reply) }
        return Int(removed)
    }

    // MARK: helpers

    /// Runs `commands` (EVALSHA calls among them) as one pipeline; when the server does not know a script
    /// (NOSCRIPT: a restart or SCRIPT FLUSH), loads `scripts` and runs the pipeline once more.
    func pipelineLoadingScripts(_ commands: [RedisCommand], scripts: [String]) async throws -> [RedisReply] {
        let replies = try await redis.pipeline(commands)
        guard replies.contains(where: { $0.errorMessage?.hasPrefix("NOSCRIPT") == true }) else { return replies }
        _ = try await redis.pipeline(scripts.map { RedisCommand("SCRIPT", "LOAD", $0) })
        return try await redis.pipeline(commands)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// An HGETALL reply as a dictionary.
    static func hash(_ reply: RedisReply) -> [String: String] {
        guard let items = reply.array else { return [:] }
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let field = items[index].string, let value = items[index + 1].string { result[field] = value }
            index += 2
        }
        return result
    }

    private func unexpected(_ operation: String, _ reply: RedisReply) -> RedisStateError {
        RedisStateError(operation: operation, detail: "unexpected reply \(reply.description)")
    }
}

/// A Redis reply that did not have the shape a state operation expects.
public struct RedisStateError: Error, CustomStringConvertible {
    public let operation: String
    public let detail: String
    public var description: String { "Redis state operation '\(operation)' failed: \(detail)" }
}

/// An encoded state to write while `token` holds the endpoint's lease.
public struct StateWrite: Sendable, Equatable {
    public let serverId: String
    public let value: String
    public let token: String

    public init(serverId: String, value: String, token: String) {
        self.serverId = serverId
        self.value = value
        self.token = token
    }
}

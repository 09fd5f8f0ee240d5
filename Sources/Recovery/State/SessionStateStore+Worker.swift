import Foundation
import RecoveryCore
import RedisClient

/// The worker's batched state writes: a job's whole Redis settlement in one round trip, and lapsed
/// leases re-taken in one pipeline. Keys and values are those of SPEC §5; every write that depends on
/// the lease still checks the lease token inside its script.
extension SessionStateStore {
    /// Settles a recovered job once its state is written: clears the pending marker if it names the job,
    /// and, only while `token` holds the lease, ends the park and the cooldown clock.
    /// KEYS: lease, pending, parked, last-attempt; ARGV: token, job id, endpoint id.
    /// Reply: 1 settled as recovered, 0 lease not held (only the marker was touched).
    static let settleRecoveredSource = """
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
    static let settleRecovered = RedisScript(settleRecoveredSource)

    /// Writes the state of a session that just came up and settles its job, in one pipeline: the state
    /// write (`writeStateIfLeaseHeld`, the lease token checked in the script), then `settleRecoveredSource`
    /// (the pending marker cleared if it names `jobId`; the park and the cooldown clock ended while the
    /// lease is still held). False when `token` no longer holds the lease: nothing is written and only
    /// the job's pending marker goes (the job's outcome is then `skipped`).
    public func commitRecovered(_ state: ConnectionState, token: String, jobId: String) async throws -> Bool {
        let commands = [
            Self.writeStateCommand(state, token: token),
            RedisCommand("EVALSHA", arguments: [
                Self.settleRecovered.sha1, 4, RedisKeys.lease(state.serverId), RedisKeys.pending(state.serverId),
                RedisKeys.parked, RedisKeys.lastAttempt, token, jobId, state.serverId,
            ]),
        ]
        let replies = try await pipelineLoadingScripts(commands, scripts: [LuaScripts.writeStateIfLeaseHeld, Self.settleRecoveredSource])
        guard replies.count == 2 else {
            throw RedisStateError(operation: "commit recovered state", detail: "short pipeline reply")
        }
        if let message = replies.lazy.compactMap(\.errorMessage).first {
            throw RedisStateError(operation: "commit recovered state", detail: message)
        }
        return replies[0].integer == 1
    }

    /// Applies what a settled job means for its endpoint's pending marker and park, in one pipeline.
    public func settle(_ disposition: ResultDisposition, serverId: String, jobId: String) async throws {
        let commands = Self.settlementCommands(disposition, serverId: serverId, jobId: jobId)
        guard !commands.isEmpty else { return }
        let replies = try await pipelineLoadingScripts(commands, scripts: [LuaScripts.clearPendingMarkerIfJob])
        if let message = replies.lazy.compactMap(\.errorMessage).first {
            throw RedisStateError(operation: "settle job \(jobId)", detail: message)
        }
    }

    /// The commands that apply `disposition` for one job, in order: the pending marker (only if it still
    /// names `jobId`), then the park written or ended, then the cooldown clock. `refreshPending` is left
    /// to whoever published the retry (it names the new job).
    static func settlementCommands(_ disposition: ResultDisposition, serverId: String, jobId: String) -> [RedisCommand] {
        var commands: [RedisCommand] = []
        if disposition.clearPending {
            commands.append(RedisCommand("EVALSHA", arguments: [Self.clearPendingIfJob.sha1, 1, RedisKeys.pending(serverId), jobId]))
        }
        if let park = disposition.park {
            commands.append(RedisCommand("HSET", RedisKeys.parked, park.serverId, park.encoded()))
        }
        if disposition.clearPark {
            commands.append(RedisCommand("HDEL", RedisKeys.parked, serverId))
            commands.append(RedisCommand("HDEL", RedisKeys.lastAttempt, serverId))
        }
        return commands
    }

    /// Takes the leases of `leases` (server id → token) again, one pipeline for all; returns the fencing
    /// number of each lease taken (those held by someone else, or, with `foreignHeartbeatTimeout`, whose
    /// endpoint has a live session that is not the pool's, are absent), and, with `acquireReplicas`, whether
    /// that many replicas acknowledged the takes (`WAIT` in the same pipeline; always true without).
    public func reacquireLeases(_ leases: [String: String], ttl: Duration, foreignHeartbeatTimeout: Duration? = nil) async throws -> (fences: [String: Int], replicated: Bool) {
        guard !leases.isEmpty else { return ([:], true) }
        let ordered = leases.sorted { $0.key < $1.key }
        let milliseconds = Self.milliseconds(ttl)
        let foreignTimeout = foreignHeartbeatTimeout.map(Self.milliseconds) ?? 0
        var commands = ordered.map { lease in
            RedisCommand("EVALSHA", arguments: [
                Self.acquireLease.sha1, 3, RedisKeys.lease(lease.key), RedisKeys.fence(lease.key), RedisKeys.connectionState(lease.key),
                lease.value, milliseconds, foreignTimeout,
            ])
        }
        if acquireReplicas > 0 { commands.append(RedisCommand("WAIT", acquireReplicas, Self.milliseconds(acquireReplicaTimeout))) }
        let replies = try await pipelineLoadingScripts(commands, scripts: [LuaScripts.acquireLease])
        var fences: [String: Int] = [:]
        for (lease, reply) in zip(ordered, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "re-take leases", detail: message) }
            if let fence = reply.integer, fence > 0 { fences[lease.key] = Int(fence) }
        }
        let replicated = acquireReplicas == 0 || (replies.last?.integer ?? 0) >= Int64(acquireReplicas)
        return (fences, replicated)
    }

    /// The Redis server's clock (`TIME`), which heartbeats are written and judged on.
    public func serverTime() async throws -> Date {
        let reply = try await redis.send("TIME")
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap(Int64.init),
              let micros = parts[1].string.flatMap(Int64.init) else {
            throw RedisStateError(operation: "read the server time", detail: reply.errorMessage ?? "unexpected reply")
        }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}

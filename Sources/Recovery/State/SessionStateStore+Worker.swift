import Foundation
import RecoveryCore
import RedisClient

/// The worker's batched state writes: a job's whole Redis settlement in one round trip, and lapsed
/// leases re-taken in one pipeline. Keys and values are those of SPEC §5; every write that depends on
/// the lease still checks the lease token inside its script.
extension SessionStateStore {
    /// Writes the state of a session that just came up, if `token` holds the lease, and settles its job
    /// in the same script: the pending marker cleared if it names `jobId`, the park and the cooldown clock
    /// ended. Without the lease only the pending marker is cleared (the job's outcome is then `skipped`).
    /// KEYS: lease, state, `mcp:connections:all`, pending, parked, last-attempt;
    /// ARGV: token, state JSON, endpoint id, job id. Reply: 1 written, 0 lease not held.
    static let commitRecoveredSource = """
        local held = redis.call('GET', KEYS[1]) == ARGV[1]
        if held then
          redis.call('SET', KEYS[2], ARGV[2])
          redis.call('SADD', KEYS[3], ARGV[3])
          redis.call('HDEL', KEYS[5], ARGV[3])
          redis.call('HDEL', KEYS[6], ARGV[3])
        end
        if redis.call('GET', KEYS[4]) == ARGV[4] then
          redis.call('DEL', KEYS[4])
        end
        if held then return 1 end
        return 0
        """
    static let commitRecovered = RedisScript(commitRecoveredSource)

    /// A recovered job's state write and settlement in one script (see `commitRecoveredSource`); false
    /// when `token` no longer holds the lease (nothing but the job's pending marker was touched).
    public func commitRecovered(_ state: ConnectionState, token: String, jobId: String) async throws -> Bool {
        let reply = try await redis.evaluate(
            Self.commitRecovered,
            keys: [
                RedisKeys.lease(state.serverId), RedisKeys.connectionState(state.serverId), RedisKeys.connectionIndex,
                RedisKeys.pending(state.serverId), RedisKeys.parked, RedisKeys.lastAttempt,
            ],
            arguments: [token, state.encoded(), state.serverId, jobId])
        guard let written = reply.integer else {
            throw RedisStateError(operation: "commit recovered state", detail: "unexpected reply \(reply.description)")
        }
        return written == 1
    }

    /// Applies what a settled job means for its endpoint's pending marker and park, in one pipeline.
    public func settle(_ disposition: ResultDisposition, serverId: String, jobId: String) async throws {
        let commands = Self.settlementCommands(disposition, serverId: serverId, jobId: jobId)
        guard !commands.isEmpty else { return }
        var replies = try await redis.pipeline(commands)
        if replies.contains(where: { $0.errorMessage?.hasPrefix("NOSCRIPT") == true }) {
            _ = try await redis.send("SCRIPT", "LOAD", LuaScripts.clearPendingMarkerIfJob)
            replies = try await redis.pipeline(commands)
        }
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
    /// number of each lease taken (those held by someone else are absent).
    public func reacquireLeases(_ leases: [String: String], ttl: Duration) async throws -> [String: Int] {
        guard !leases.isEmpty else { return [:] }
        let ordered = leases.sorted { $0.key < $1.key }
        let milliseconds = Self.milliseconds(ttl)
        let commands = ordered.map { lease in
            RedisCommand("EVALSHA", arguments: [Self.acquireLease.sha1, 2, RedisKeys.lease(lease.key), RedisKeys.fence(lease.key), lease.value, milliseconds])
        }
        var replies = try await redis.pipeline(commands)
        if replies.contains(where: { $0.errorMessage?.hasPrefix("NOSCRIPT") == true }) {
            _ = try await redis.send("SCRIPT", "LOAD", LuaScripts.acquireLease)
            replies = try await redis.pipeline(commands)
        }
        var fences: [String: Int] = [:]
        for (lease, reply) in zip(ordered, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "re-take leases", detail: message) }
            if let fence = reply.integer, fence > 0 { fences[lease.key] = Int(fence) }
        }
        return fences
    }
}

import RecoveryCore
import RedisClient

/// The scheduler leader lease in Redis: taken with `SET NX PX`, kept and released only by its token.
public struct RedisLeaderLease: LeaderLease {
    let redis: RedisClient

    /// Takes or keeps the scheduler leader lease for `token`; returns whether this token leads.
    public func hold(token: String, ttl: Duration) async throws -> Bool {
        let renewed = try await renewLeasesByKey([RedisKeys.schedulerLeader: token], ttl: ttl)
        if renewed { return true }
        let reply = try await redis.send("SET", RedisKeys.schedulerLeader, token, "NX", "PX", RedisValues.milliseconds(ttl))
        return reply.string == "OK"
    }

    /// Gives up the leader lease if this token holds it.
    public func release(token: String) async throws {
        try await redis.evaluate(PoolScripts.releaseLease, keys: [RedisKeys.schedulerLeader], arguments: [token])
    }

    private func renewLeasesByKey(_ leases: [String: String], ttl: Duration) async throws -> Bool {
        let ordered = leases.sorted { $0.key < $1.key }
        let reply = try await redis.evaluate(
            PoolScripts.renewLeases, keys: ordered.map(\.key), arguments: [RedisValues.milliseconds(ttl)] + ordered.map(\.value))
        return (reply.array ?? [RedisReply.null]).isEmpty
    }
}

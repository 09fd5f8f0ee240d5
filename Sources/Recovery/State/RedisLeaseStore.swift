import Foundation
import RecoveryCore
import RedisClient

/// Endpoint leases in Redis: each rule one Lua script, so the check and the change are one atomic step.
public struct RedisLeaseStore: LeaseStore {
    let redis: RedisClient
    /// Replicas that must acknowledge a taken lease (`WAIT`, within `acquireReplicaTimeout`) before the
    /// acquire reports it taken; 0 skips the wait. A lease the replicas did not acknowledge is released
    /// and the acquire fails: a Sentinel failover cannot lose a lease whose session is open.
    let acquireReplicas: Int
    let acquireReplicaTimeout: Duration

    init(redis: RedisClient, acquireReplicas: Int, acquireReplicaTimeout: Duration) {
        self.redis = redis
        self.acquireReplicas = acquireReplicas
        self.acquireReplicaTimeout = acquireReplicaTimeout
    }

    public func acquire(endpointId: EndpointID, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> LeaseAcquisition {
        let keys = [RedisKeys.lease(endpointId), RedisKeys.fence(endpointId), RedisKeys.connectionState(endpointId)]
        let arguments: [any RedisArgumentConvertible] = [token, RedisValues.milliseconds(ttl), foreignHeartbeatTimeout.map(RedisValues.milliseconds) ?? 0]
        guard acquireReplicas > 0 else {
            let reply = try await redis.evaluate(PoolScripts.acquireLease, keys: keys, arguments: arguments)
            guard let value = reply.integer else { throw RedisStateError(operation: "acquire lease", unexpected: reply) }
            return LeaseAcquisition(scriptReply: value)
        }
        // The WAIT rides in the same round trip: it returns once the replicas have everything before it.
        let timeout = RedisValues.milliseconds(acquireReplicaTimeout)
        let replies = try await redis.pipelineLoadingScripts(
            [RedisCommand("EVALSHA", arguments: [PoolScripts.acquireLease.sha1, keys.count] + keys + arguments),
             RedisCommand("WAIT", acquireReplicas, timeout)],
            scripts: [LuaScripts.acquireLease])
        guard let value = replies[0].integer else { throw RedisStateError(operation: "acquire lease", unexpected: replies[0]) }
        let acquisition = LeaseAcquisition(scriptReply: value)
        guard acquisition.fence != nil else { return acquisition }
        let acknowledged = replies[1].integer ?? 0
        guard acknowledged >= Int64(acquireReplicas) else {
            _ = try? await release(endpointId: endpointId, token: token)
            throw RedisStateError(
                operation: "acquire lease",
                detail: "acknowledged by \(acknowledged) of \(acquireReplicas) replicas within \(timeout) ms; released unused")
        }
        return acquisition
    }

    public func renew(_ leases: [EndpointID: String], ttl: Duration) async throws -> Set<EndpointID> {
        guard !leases.isEmpty else { return [] }
        let ordered = leases.sorted { $0.key < $1.key }
        var arguments: [any RedisArgumentConvertible] = [RedisValues.milliseconds(ttl)]
        arguments.reserveCapacity(1 + ordered.count * 2)
        for (endpointId, token) in ordered { arguments += [token, endpointId] }
        let reply = try await redis.evaluate(
            PoolScripts.renewSessionLeases, keys: [RedisKeys.heldSessions] + ordered.map { RedisKeys.lease($0.key) },
            arguments: arguments)
        guard let lost = reply.array else { throw RedisStateError(operation: "renew leases", unexpected: reply) }
        let prefix = RedisKeys.lease("")
        return Set(lost.compactMap(\.string).map { EndpointID(String($0.dropFirst(prefix.count))) })
    }

    @discardableResult
    public func release(endpointId: EndpointID, token: String) async throws -> Bool {
        let reply = try await redis.evaluate(
            PoolScripts.releaseSessionLease, keys: [RedisKeys.lease(endpointId), RedisKeys.heldSessions, RedisKeys.heldSessionsVersion],
            arguments: [token, endpointId])
        return reply.integer == 1
    }

    /// One pipeline for all the takes (and, with `acquireReplicas`, one `WAIT` after them).
    public func reacquire(_ leases: [EndpointID: String], ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> (fences: [EndpointID: Int], replicated: Bool) {
        guard !leases.isEmpty else { return ([:], true) }
        let ordered = leases.sorted { $0.key < $1.key }
        let milliseconds = RedisValues.milliseconds(ttl)
        let foreignTimeout = foreignHeartbeatTimeout.map(RedisValues.milliseconds) ?? 0
        var commands = ordered.map { lease in
            RedisCommand("EVALSHA", arguments: [
                PoolScripts.acquireLease.sha1, 3, RedisKeys.lease(lease.key), RedisKeys.fence(lease.key), RedisKeys.connectionState(lease.key),
                lease.value, milliseconds, foreignTimeout,
            ])
        }
        if acquireReplicas > 0 { commands.append(RedisCommand("WAIT", acquireReplicas, RedisValues.milliseconds(acquireReplicaTimeout))) }
        let replies = try await redis.pipelineLoadingScripts(commands, scripts: [LuaScripts.acquireLease])
        var fences: [EndpointID: Int] = [:]
        for (lease, reply) in zip(ordered, replies) {
            if let message = reply.errorMessage { throw RedisStateError(operation: "re-take leases", detail: message) }
            if let fence = reply.integer, fence > 0 { fences[lease.key] = Int(fence) }
        }
        let replicated = acquireReplicas == 0 || (replies.last?.integer ?? 0) >= Int64(acquireReplicas)
        return (fences, replicated)
    }

    /// `TIME`.
    public func serverTime() async throws -> Date {
        let reply = try await redis.send("TIME")
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap(Int64.init),
              let micros = parts[1].string.flatMap(Int64.init) else {
            throw RedisStateError(operation: "read the server time", detail: reply.errorMessage ?? "unexpected reply")
        }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}

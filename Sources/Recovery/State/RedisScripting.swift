import Foundation
import RecoveryCore
import RedisClient

/// The pool's Lua scripts (source in `LuaScripts`) as loaded scripts, and what every Redis role store
/// shares: pipelines that reload scripts after a restart, durations as milliseconds, hashes as dictionaries.
enum PoolScripts {
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
    static let releaseSession = RedisScript(LuaScripts.releaseSession)
    static let deleteStateIfUnchanged = RedisScript(LuaScripts.deleteStateIfUnchanged)
    static let removeIndexEntry = RedisScript(LuaScripts.removeIndexEntryIfNoState)
    static let setPending = RedisScript(LuaScripts.setPendingMarker)
    static let clearPendingIfJob = RedisScript(LuaScripts.clearPendingMarkerIfJob)
    static let recordJobReceived = RedisScript(LuaScripts.recordJobReceived)
    static let unreceivedJobs = RedisScript(LuaScripts.unreceivedJobs)
    static let forgetUnreceivedJobs = RedisScript(LuaScripts.forgetUnreceivedJobs)
    static let settleRecovered = RedisScript(LuaScripts.settleRecovered)
    static let settleIfPending = RedisScript(LuaScripts.settleIfPending)
    static let forgetWorkers = RedisScript(LuaScripts.forgetWorkersWithoutLiveness)
}

extension RedisClient {
    /// Runs `commands` (EVALSHA calls among them) as one pipeline; when the server does not know a script
    /// (NOSCRIPT: a restart or SCRIPT FLUSH), loads `scripts` and runs the pipeline once more.
    func pipelineLoadingScripts(_ commands: [RedisCommand], scripts: [String]) async throws -> [RedisReply] {
        let replies = try await pipeline(commands)
        guard replies.contains(where: { $0.errorMessage?.hasPrefix("NOSCRIPT") == true }) else { return replies }
        _ = try await pipeline(scripts.map { RedisCommand("SCRIPT", "LOAD", $0) })
        return try await pipeline(commands)
    }
}

enum RedisValues {
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// An HGETALL reply as a dictionary.
    static func hash(_ reply: RedisReply) -> [String: String] {
        hash(reply, field: { $0 })
    }

    /// A hash whose fields are endpoint ids (`mcp:recovery:parked`, `mcp:recovery:last-attempt`).
    static func endpointHash(_ reply: RedisReply) -> [EndpointID: String] {
        hash(reply, field: EndpointID.init(rawValue:))
    }

    private static func hash<Field: Hashable>(_ reply: RedisReply, field makeField: (String) -> Field) -> [Field: String] {
        guard let items = reply.array else { return [:] }
        var result: [Field: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let field = items[index].string, let value = items[index + 1].string { result[makeField(field)] = value }
            index += 2
        }
        return result
    }

    /// Keys per MGET of a long read.
    static let readChunk = 1_000
}

/// A Redis reply that did not have the shape a state operation expects.
public struct RedisStateError: Error, CustomStringConvertible {
    public let operation: String
    public let detail: String
    public var description: String { "Redis state operation '\(operation)' failed: \(detail)" }

    init(operation: String, detail: String) {
        self.operation = operation
        self.detail = detail
    }

    init(operation: String, unexpected reply: RedisReply) {
        self.init(operation: operation, detail: "unexpected reply \(reply.description)")
    }
}

import Foundation
import JSON
import RecoveryCore
import RedisClient

/// The results the scheduler received, kept in Redis for the console: each endpoint's latest results and
/// the outcomes counted per minute (`RedisKeys.recentResults`, `RedisKeys.outcomesInMinute`).
public struct ResultHistory: Sendable {
    public let redis: RedisClient

    /// How long an endpoint's latest results are kept after its last one.
    static let recentResultsTTL = Duration.seconds(7 * 86_400)
    /// How long a minute's outcome counts are kept.
    static let minuteTTL = Duration.seconds(2 * 3600)

    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// Appends received results in one pipeline: each to its endpoint's list (trimmed), and to its minute's counts.
    public func record(_ results: [(result: JobResult, receivedAt: Date)]) async throws {
        guard !results.isEmpty else { return }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(results.count * 5)
        var minutes: Set<Int64> = []
        var endpoints: Set<EndpointID> = []
        for (result, receivedAt) in results {
            let key = RedisKeys.recentResults(result.endpointId)
            let entry = RecordedResult(result: result, receivedAt: receivedAt)
            commands.append(RedisCommand("LPUSH", key, entry.encoded()))
            endpoints.insert(result.endpointId)
            let minute = Self.minute(of: receivedAt)
            commands.append(RedisCommand("HINCRBY", RedisKeys.outcomesInMinute(minute), result.outcome.rawValue, 1))
            minutes.insert(minute)
        }
        for endpointId in endpoints {
            let key = RedisKeys.recentResults(endpointId)
            commands.append(RedisCommand("LTRIM", key, 0, RedisKeys.recentResultsKept - 1))
            commands.append(RedisCommand("PEXPIRE", key, RedisValues.milliseconds(Self.recentResultsTTL)))
        }
        for minute in minutes {
            commands.append(RedisCommand("PEXPIRE", RedisKeys.outcomesInMinute(minute), RedisValues.milliseconds(Self.minuteTTL)))
        }
        let replies = try await redis.pipeline(commands)
        if let failed = replies.first(where: { $0.errorMessage != nil }) {
            throw RedisStateError(operation: "record results", detail: failed.errorMessage ?? "")
        }
    }

    /// The endpoint's latest results, newest first (an entry that does not decode is left out).
    public func recent(endpointId: EndpointID, limit: Int = RedisKeys.recentResultsKept) async throws -> [RecordedResult] {
        let reply = try await redis.send("LRANGE", RedisKeys.recentResults(endpointId), 0, max(0, limit - 1))
        return (reply.array ?? []).compactMap { $0.string.flatMap { RecordedResult.decode(Data($0.utf8)) } }
    }

    /// The latest result of each of `endpointIds` that has one (one pipelined read).
    public func latest(endpointIds: [EndpointID]) async throws -> [EndpointID: RecordedResult] {
        guard !endpointIds.isEmpty else { return [:] }
        let replies = try await redis.pipeline(endpointIds.map { RedisCommand("LINDEX", RedisKeys.recentResults($0), 0) })
        var latest: [EndpointID: RecordedResult] = [:]
        for (id, reply) in zip(endpointIds, replies) {
            if let text = reply.string, let entry = RecordedResult.decode(Data(text.utf8)) { latest[id] = entry }
        }
        return latest
    }

    /// Outcome counts of each of the `minutes` minutes up to `now`'s, oldest first.
    public func outcomesPerMinute(minutes: Int = 60, now: Date = Date()) async throws -> [MinuteOutcomes] {
        let last = Self.minute(of: now)
        let range = (last - Int64(minutes) + 1)...last
        let replies = try await redis.pipeline(range.map { RedisCommand("HGETALL", RedisKeys.outcomesInMinute($0)) })
        return zip(range, replies).map { minute, reply in
            var counts: [JobOutcome: Int] = [:]
            for (field, value) in RedisValues.hash(reply) {
                if let outcome = JobOutcome(rawValue: field), let count = Int(value) { counts[outcome] = count }
            }
            return MinuteOutcomes(start: Date(timeIntervalSince1970: TimeInterval(minute * 60)), counts: counts)
        }
    }

    static func minute(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / 60).rounded(.down)) }
}

/// One result as the console shows it: the result and when the scheduler received it.
public struct RecordedResult: Sendable, Equatable {
    public var result: JobResult
    public var receivedAt: Date

    public init(result: JobResult, receivedAt: Date) {
        self.result = result
        self.receivedAt = receivedAt
    }

    /// The result's JSON with `receivedAt` added.
    func encoded() -> String {
        guard case .object(var members)? = try? JSONValue(parsing: [UInt8](result.encoded())) else {
            preconditionFailure("a job result encodes to a JSON object")
        }
        members.append(JSONMember(key: "receivedAt", value: .string(Timestamp.format(receivedAt))))
        return JSONWriter.write(.object(members))
    }

    static func decode(_ data: Data) -> RecordedResult? {
        guard case .object(let members)? = try? JSONValue(parsing: [UInt8](data)),
              let received = members.last(where: { $0.key == "receivedAt" })?.value.stringValue.flatMap(Timestamp.parse),
              let result = try? JobResult.decode(Data(JSONWriter.write(.object(members.filter { $0.key != "receivedAt" })).utf8))
        else { return nil }
        return RecordedResult(result: result, receivedAt: received)
    }
}

/// The results of one minute, by outcome.
public struct MinuteOutcomes: Sendable, Equatable {
    public var start: Date
    public var counts: [JobOutcome: Int]

    public init(start: Date, counts: [JobOutcome: Int]) {
        self.start = start
        self.counts = counts
    }
}

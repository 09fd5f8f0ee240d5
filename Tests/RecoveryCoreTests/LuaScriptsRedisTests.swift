import Foundation
import Testing
@testable import RecoveryCore

/// Runs commands on the test Redis (`REDIS_URL`) through `redis-cli`, the password passed by environment.
struct RedisCLI {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let host: String
    let port: Int
    let database: Int
    let password: String?

    init() throws {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw Failure(description: "REDIS_URL is not set: start the test servers (scripts/services.sh start) and export their URLs")
        }
        guard let components = URLComponents(string: url), let host = components.host else {
            throw Failure(description: "REDIS_URL is not a redis:// URL")
        }
        self.host = host
        port = components.port ?? 6379
        database = Int(components.path.dropFirst()) ?? 0
        password = components.password.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The reply lines (an integer, a bulk string, or one line per array element; nil prints as an empty line).
    @discardableResult
    func run(_ arguments: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-cli", "-h", host, "-p", String(port), "-n", String(database)] + arguments
        var environment = ProcessInfo.processInfo.environment
        if let password { environment["REDISCLI_AUTH"] = password }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw Failure(description: "redis-cli exited with \(process.terminationStatus): \(text)") }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        if let first = lines.first, first.hasPrefix("ERR") || first.hasPrefix("NOAUTH") || first.hasPrefix("WRONG") {
            throw Failure(description: first)
        }
        return lines
    }

    func eval(_ script: String, keys: [String], arguments: [String]) throws -> [String] {
        try run(["EVAL", script, String(keys.count)] + keys + arguments)
    }
}

/// The lease and state scripts against a real Redis, each test on its own keys.
@Suite struct LuaScriptsRedisTests {
    let redis: RedisCLI
    let id: String

    init() throws {
        redis = try RedisCLI()
        id = "luatest-" + UUID().uuidString.lowercased()
    }

    var lease: String { RedisKeys.lease(EndpointID(id)) }
    var fence: String { RedisKeys.fence(EndpointID(id)) }
    var state: String { RedisKeys.connectionState(EndpointID(id)) }
    /// A per-test stand-in for `mcp:connections:all`, so parallel tests do not share the real set.
    var index: String { "luatest:index:" + id }
    /// Per-test stand-ins for the held-sessions index and its version.
    var held: String { "luatest:held:" + id }
    var version: String { "luatest:held-version:" + id }

    func cleanUp() throws {
        try redis.run(["DEL", lease, fence, state, index, held, version, RedisKeys.pending(EndpointID(id))])
    }

    @Test func acquireIssuesIncreasingFencesOnlyToTheFirstTaker() throws {
        defer { try? cleanUp() }
        #expect(try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-a", "10000"]) == ["1"])
        #expect(try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-b", "10000"]) == ["0"])
        #expect(try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-a", "10000"]) == ["0"])
        #expect(try redis.eval(LuaScripts.releaseLease, keys: [lease], arguments: ["tok-a"]) == ["1"])
        #expect(try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-b", "10000"]) == ["2"])
        let ttl = Int(try redis.run(["PTTL", lease]).first ?? "") ?? -1
        #expect(ttl > 0 && ttl <= 10000)
    }

    @Test func releaseOnlyDeletesTheOwnersLease() throws {
        defer { try? cleanUp() }
        _ = try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-a", "10000"])
        #expect(try redis.eval(LuaScripts.releaseLease, keys: [lease], arguments: ["tok-b"]) == ["0"])
        #expect(try redis.run(["GET", lease]) == ["tok-a"])
    }

    @Test func renewExtendsHeldLeasesAndReportsLostOnes() throws {
        let other = "luatest-other-" + UUID().uuidString.lowercased()
        let otherLease = RedisKeys.lease(EndpointID(other))
        let gone = RedisKeys.lease(EndpointID("luatest-gone-" + UUID().uuidString.lowercased()))
        defer {
            try? cleanUp()
            _ = try? redis.run(["DEL", otherLease])
        }
        try redis.run(["SET", lease, "tok-a", "PX", "1000"])
        try redis.run(["SET", otherLease, "someone-else", "PX", "1000"])
        let lost = try redis.eval(LuaScripts.renewLeases, keys: [lease, otherLease, gone], arguments: ["60000", "tok-a", "tok-a", "tok-a"])
        #expect(lost == [otherLease, gone])
        #expect((Int(try redis.run(["PTTL", lease]).first ?? "") ?? 0) > 1000)
        #expect((Int(try redis.run(["PTTL", otherLease]).first ?? "") ?? 0) <= 1000)
    }

    @Test func stateIsWrittenAndIndexedOnlyUnderTheLease() throws {
        defer { try? cleanUp() }
        _ = try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-a", "10000"])
        #expect(try redis.eval(LuaScripts.writeStateIfLeaseHeld, keys: [lease, state, index, held, version], arguments: ["tok-b", "{\"v\":0}", id]) == ["0"])
        #expect(try redis.run(["EXISTS", state]) == ["0"])
        #expect(try redis.run(["ZSCORE", held, id]) == [""])
        #expect(try redis.eval(LuaScripts.writeStateIfLeaseHeld, keys: [lease, state, index, held, version], arguments: ["tok-a", "{\"v\":1}", id]) == ["1"])
        #expect(try redis.run(["GET", state]) == ["{\"v\":1}"])
        #expect(try redis.run(["SISMEMBER", index, id]) == ["1"])
        #expect(try redis.run(["ZSCORE", held, id]).first?.isEmpty == false)
        #expect(try redis.run(["EXISTS", version]) == ["1"])
    }

    @Test func statesAreWrittenInOneCallOnlyWhereTheirLeaseIsHeld() throws {
        let other = id + "-b"
        let otherLease = RedisKeys.lease(EndpointID(other)), otherState = RedisKeys.connectionState(EndpointID(other))
        defer {
            try? cleanUp()
            _ = try? redis.run(["DEL", otherLease, RedisKeys.fence(EndpointID(other)), otherState])
        }
        _ = try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-a", "10000"])
        _ = try redis.eval(LuaScripts.acquireLease, keys: [otherLease, RedisKeys.fence(EndpointID(other))], arguments: ["tok-b", "10000"])
        // The second write names a token that does not hold its lease: refused, nothing written for it.
        let refused = try redis.eval(
            LuaScripts.writeStatesIfLeasesHeld, keys: [index, held, version, lease, state, otherLease, otherState],
            arguments: ["tok-a", "{\"v\":1}", id, "tok-wrong", "{\"v\":2}", other])
        #expect(refused == [other])
        #expect(try redis.run(["GET", state]) == ["{\"v\":1}"])
        #expect(try redis.run(["EXISTS", otherState]) == ["0"])
        #expect(try redis.run(["SMEMBERS", index]) == [id])
        #expect(try redis.run(["ZSCORE", held, other]) == [""])
        let deadline = try #require(Int(try redis.run(["ZSCORE", held, id]).first ?? ""))
        let versionAfterJoin = try redis.run(["GET", version])
        #expect(versionAfterJoin.first?.isEmpty == false)

        // Written again with both tokens right: both written (nothing refused: redis-cli prints the empty
        // array as one empty line), the index version moves for the one that joined.
        #expect(try redis.eval(
            LuaScripts.writeStatesIfLeasesHeld, keys: [index, held, version, lease, state, otherLease, otherState],
            arguments: ["tok-a", "{\"v\":3}", id, "tok-b", "{\"v\":4}", other]) == [""])
        #expect(try redis.run(["GET", state]) == ["{\"v\":3}"])
        #expect(try redis.run(["GET", otherState]) == ["{\"v\":4}"])
        #expect(Set(try redis.run(["SMEMBERS", index])) == [id, other])
        // The lease was not renewed, so its deadline stays its expiry (TIME and PTTL each round to the ms).
        let deadlineAgain = try #require(Int(try redis.run(["ZSCORE", held, id]).first ?? ""))
        #expect(abs(deadlineAgain - deadline) <= 2)
        let versionAfterSecond = try redis.run(["GET", version])
        #expect(versionAfterSecond != versionAfterJoin)

        // Nobody joins: the version stays.
        _ = try redis.eval(
            LuaScripts.writeStatesIfLeasesHeld, keys: [index, held, version, lease, state, otherLease, otherState],
            arguments: ["tok-a", "{\"v\":5}", id, "tok-b", "{\"v\":6}", other])
        #expect(try redis.run(["GET", version]) == versionAfterSecond)
    }

    @Test func aSessionIsReleasedOnlyUnderTheLeaseStateAndLeaseInOneStep() throws {
        defer { try? cleanUp() }
        _ = try redis.eval(LuaScripts.acquireLease, keys: [lease, fence], arguments: ["tok-a", "10000"])
        _ = try redis.eval(LuaScripts.writeStateIfLeaseHeld, keys: [lease, state, index, held, version], arguments: ["tok-a", "{}", id])
        #expect(try redis.eval(LuaScripts.releaseSession, keys: [lease, state, index, held, version], arguments: ["tok-b", id]) == ["0"])
        #expect(try redis.run(["EXISTS", state]) == ["1"])
        #expect(try redis.run(["EXISTS", lease]) == ["1"])
        #expect(try redis.eval(LuaScripts.releaseSession, keys: [lease, state, index, held, version], arguments: ["tok-a", id]) == ["1"])
        #expect(try redis.run(["EXISTS", state]) == ["0"])
        #expect(try redis.run(["EXISTS", lease]) == ["0"])
        #expect(try redis.run(["SISMEMBER", index, id]) == ["0"])
        #expect(try redis.run(["ZSCORE", held, id]) == [""])
        // The holder's next heartbeat cannot bring the state back.
        #expect(try redis.eval(LuaScripts.writeStateIfLeaseHeld, keys: [lease, state, index, held, version], arguments: ["tok-a", "{}", id]) == ["0"])
        #expect(try redis.run(["EXISTS", state]) == ["0"])
    }

    @Test func staleStateIsDeletedOnlyWhileUnchanged() throws {
        defer { try? cleanUp() }
        try redis.run(["SET", state, "old"])
        try redis.run(["SADD", index, id])
        try redis.run(["ZADD", held, "1", id])
        #expect(try redis.eval(LuaScripts.deleteStateIfUnchanged, keys: [state, index, held, version], arguments: ["older", id]) == ["0"])
        #expect(try redis.run(["GET", state]) == ["old"])
        #expect(try redis.eval(LuaScripts.deleteStateIfUnchanged, keys: [state, index, held, version], arguments: ["old", id]) == ["1"])
        #expect(try redis.run(["EXISTS", state]) == ["0"])
        #expect(try redis.run(["SISMEMBER", index, id]) == ["0"])
        #expect(try redis.run(["ZSCORE", held, id]) == [""])
    }

    @Test func indexEntryIsRemovedOnlyWithoutState() throws {
        defer { try? cleanUp() }
        try redis.run(["SADD", index, id])
        try redis.run(["SET", state, "{}"])
        #expect(try redis.eval(LuaScripts.removeIndexEntryIfNoState, keys: [state, index], arguments: [id]) == ["0"])
        try redis.run(["DEL", state])
        #expect(try redis.eval(LuaScripts.removeIndexEntryIfNoState, keys: [state, index], arguments: [id]) == ["1"])
        #expect(try redis.run(["SISMEMBER", index, id]) == ["0"])
    }

    @Test func pendingMarkerIsClearedOnlyByItsJob() throws {
        defer { try? cleanUp() }
        let pending = RedisKeys.pending(EndpointID(id))
        _ = try redis.eval(LuaScripts.setPendingMarker, keys: [pending], arguments: ["job-1", "30000"])
        #expect(try redis.eval(LuaScripts.clearPendingMarkerIfJob, keys: [pending], arguments: ["job-0"]) == ["0"])
        #expect(try redis.run(["GET", pending]) == ["job-1"])
        #expect(try redis.eval(LuaScripts.clearPendingMarkerIfJob, keys: [pending], arguments: ["job-1"]) == ["1"])
        #expect(try redis.run(["EXISTS", pending]) == ["0"])
    }

    @Test func pendingMarkerIsSetOnceWithItsTTL() throws {
        defer { try? cleanUp() }
        let pending = RedisKeys.pending(EndpointID(id))
        #expect(try redis.eval(LuaScripts.setPendingMarker, keys: [pending], arguments: ["job-1", "30000"]) == ["1"])
        #expect(try redis.eval(LuaScripts.setPendingMarker, keys: [pending], arguments: ["job-2", "30000"]) == ["0"])
        #expect(try redis.run(["GET", pending]) == ["job-1"])
        let ttl = Int(try redis.run(["PTTL", pending]).first ?? "") ?? -1
        #expect(ttl > 0 && ttl <= 30000)
    }
}

import RedisClient
import Testing

/// The lease pattern: acquire with `SET NX PX`, renew and release only with the holder's token.
@Suite(.serialized) struct RedisLeaseScriptTests {
    static let renew = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """)
    static let release = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """)

    @Test func acquireIsExclusiveWhileTheLeaseLives() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("lease-acquire")
        let first = try await client.send("SET", key, "token-a", "NX", "PX", 5_000)
        let second = try await client.send("SET", key, "token-b", "NX", "PX", 5_000)
        #expect(first == .status("OK"))
        #expect(second == .null)
        #expect(try await client.get(key) == Array("token-a".utf8))
        let ttl = try await client.send("PTTL", key).integer ?? -1
        #expect(ttl > 0 && ttl <= 5_000)
    }

    @Test func renewAndReleaseRunAfterScriptFlushAndHonourOnlyTheRightToken() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("lease-renew")
        try await client.send("SET", key, "holder", "NX", "PX", 2_000)

        try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.send("SCRIPT", "EXISTS", Self.renew.sha1).array == [.integer(0)])

        #expect(try await client.evaluate(Self.renew, keys: [key], arguments: ["intruder", 60_000]) == .integer(0))
        #expect(try await client.send("PTTL", key).integer ?? .max <= 2_000)
        // The fallback EVAL loaded the script, so the next call is served by EVALSHA.
        #expect(try await client.send("SCRIPT", "EXISTS", Self.renew.sha1).array == [.integer(1)])

        #expect(try await client.evaluate(Self.renew, keys: [key], arguments: ["holder", 60_000]) == .integer(1))
        #expect(try await client.send("PTTL", key).integer ?? 0 > 2_000)

        #expect(try await client.evaluate(Self.release, keys: [key], arguments: ["intruder"]) == .integer(0))
        #expect(try await client.get(key) == Array("holder".utf8))
        #expect(try await client.evaluate(Self.release, keys: [key], arguments: ["holder"]) == .integer(1))
        #expect(try await client.get(key) == nil)
    }

    @Test func renewOfAnExpiredLeaseFails() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("lease-expired")
        try await client.send("SET", key, "holder", "NX", "PX", 50)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await client.evaluate(Self.renew, keys: [key], arguments: ["holder", 60_000]) == .integer(0))
        #expect(try await client.send("SET", key, "next", "NX", "PX", 5_000) == .status("OK"))
    }

    @Test func scriptErrorIsThrownWithTheServerMessage() async throws {
        let client = try await connectToTestServer()
        let broken = RedisScript("return redis.call('NOSUCHCOMMAND')")
        await #expect {
            try await client.evaluate(broken)
        } throws: { error in
            guard case let RedisError.commandFailed(_, _, message) = error else { return false }
            return message.lowercased().contains("unknown")
        }
    }
}

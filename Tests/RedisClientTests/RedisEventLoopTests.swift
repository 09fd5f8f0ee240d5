import RedisClient
import Testing

/// The event-loop driven connection: replies reach the right caller when many pipelines share one
/// connection, big values cross many reads and writes, and reply shapes come through intact.
@Suite struct RedisEventLoopTests {
    @Test func concurrentPipelinesOnOneClientEachGetTheirOwnRepliesInOrder() async throws {
        let client = try await connectToTestServer()
        let prefix = uniqueKeyPrefix("concurrent-pipelines")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<40 {
                group.addTask {
                    for round in 0..<5 {
                        let key = "\(prefix):\(task)"
                        let value = "task-\(task)-round-\(round)"
                        var commands = [RedisCommand("SET", key, value, "PX", 60_000)]
                        commands += (0..<15).map { _ in RedisCommand("GET", key) }
                        let replies = try await client.pipeline(commands)
                        #expect(replies.count == 16)
                        #expect(replies[0] == .status("OK"))
                        #expect(replies.dropFirst().allSatisfy { $0.string == value }, "task \(task) got another caller's replies")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func bigValueCrossesManyWritesAndReads() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("big")
        let value = (0..<(3 * 1024 * 1024 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await client.set(key, value, expiry: .seconds(60))
        let replies = try await client.pipeline([RedisCommand("GET", key), RedisCommand("STRLEN", key), RedisCommand("GET", key)])
        #expect(replies[0].bytes == value)
        #expect(replies[1] == .integer(Int64(value.count)))
        #expect(replies[2].bytes == value)
    }

    @Test func nestedArraysNilsAndIntegersComeThroughIntact() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("nested")
        let reply = try await client.send("EVAL", "return {1, {ARGV[1], {-7}}, 'x\\0y', {}}", 0, "bulk\r\nwith crlf")
        #expect(reply == .array([
            .integer(1),
            .array([.bulk(Array("bulk\r\nwith crlf".utf8)), .array([.integer(-7)])]),
            .bulk([0x78, 0x00, 0x79]),
            .array([]),
        ]))
        try await client.set(key, "present", expiry: .seconds(60))
        let values = try await client.send("MGET", key, "\(key):missing")
        #expect(values == .array([.bulk(Array("present".utf8)), .null]))
        #expect(try await client.send("GET", "\(key):missing") == .null)
    }

    @Test func closingWhilePipelinesWaitFailsThemAsClosed() async throws {
        let client = try await connectToTestServer(commandTimeout: .seconds(30))
        let key = uniqueKeyPrefix("close-waiting")
        let blocked = Task { try await client.send("BLPOP", key, 20) }
        try await Task.sleep(for: .milliseconds(200))
        await client.close()
        await #expect {
            _ = try await blocked.value
        } throws: { error in
            guard case RedisError.closed = error else { return false }
            return true
        }
    }

    @Test func clientsOnTheSameServerAreIndependentConnections() async throws {
        let first = try await connectToTestServer()
        let second = try await connectToTestServer()
        let firstID = try await first.send("CLIENT", "ID").integer
        let secondID = try await second.send("CLIENT", "ID").integer
        #expect(firstID != nil && secondID != nil && firstID != secondID)
        #expect(try await first.send("CLIENT", "ID").integer == firstID)
    }
}

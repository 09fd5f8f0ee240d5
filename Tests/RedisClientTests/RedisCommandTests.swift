import RedisClient
import Testing

@Suite struct RedisCommandTests {
    @Test func valueWithNulCRLFAndNonASCIIBytesRoundTrips() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("binary")
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0xFE, 0x80] + Array("小智\r\n$3\r\n".utf8) + [0x00]
        try await client.set(key, value, expiry: .seconds(60))
        #expect(try await client.get(key) == value)
        #expect(try await client.send("STRLEN", key) == .integer(Int64(value.count)))
    }

    @Test func binaryKeysAreDistinctFromTheirTextPrefix() async throws {
        let client = try await connectToTestServer()
        let prefix = uniqueKeyPrefix("binkey")
        let binaryKey = Array(prefix.utf8) + [0x00, 0x01]
        try await client.set(binaryKey, "with-nul", expiry: .seconds(60))
        #expect(try await client.get(prefix) == nil)
        #expect(try await client.get(binaryKey).map { String(decoding: $0, as: UTF8.self) } == "with-nul")
    }

    @Test func pipelineOfTenThousandCommandsAnswersInOrder() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("pipeline")
        var commands = (0..<10_000).map { RedisCommand("RPUSH", key, "item-\($0)") }
        commands.append(RedisCommand("PEXPIRE", key, 60_000))
        let replies = try await client.pipeline(commands)
        #expect(replies.count == 10_001)
        #expect(replies[0] == .integer(1))
        #expect(replies[9_999] == .integer(10_000))
        #expect(replies.prefix(10_000).enumerated().allSatisfy { $0.element == .integer(Int64($0.offset + 1)) })
        let stored = try await client.send("LRANGE", key, 0, -1)
        #expect(stored.array?.compactMap(\.string) == (0..<10_000).map { "item-\($0)" })
    }

    @Test func pipelineReturnsErrorRepliesInPlace() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("pipeline-error")
        let replies = try await client.pipeline([
            RedisCommand("SET", key, "text", "PX", 60_000),
            RedisCommand("INCR", key),
            RedisCommand("GET", key),
        ])
        #expect(replies[0] == .status("OK"))
        #expect(replies[1].errorMessage?.contains("not an integer") == true)
        #expect(replies[2].string == "text")
    }

    @Test func errorReplyOfASingleCommandIsThrownWithItsName() async throws {
        let client = try await connectToTestServer()
        await #expect {
            try await client.send("NOSUCHCOMMAND", "x")
        } throws: { error in
            guard case let RedisError.commandFailed(_, command, message) = error else { return false }
            return command == "NOSUCHCOMMAND" && message.contains("unknown command")
        }
        #expect(try await client.send("PING") == .status("PONG"))
    }

    @Test func scanFindsExactlyTheMatchingKeys() async throws {
        let client = try await connectToTestServer()
        let prefix = uniqueKeyPrefix("scan")
        let expected = Set((0..<250).map { "\(prefix):member:\($0)" })
        var commands = expected.map { RedisCommand("SET", $0, "1", "PX", 60_000) }
        commands.append(RedisCommand("SET", "\(prefix)-outside", "1", "PX", 60_000))
        commands.append(RedisCommand("SET", "\(prefix):other:1", "1", "PX", 60_000))
        _ = try await client.pipeline(commands)

        let found = try await client.scanAllKeys(matching: "\(prefix):member:*", count: 50)
        #expect(found.count == expected.count)
        #expect(Set(found.map { String(decoding: $0, as: UTF8.self) }) == expected)
    }

    @Test func commandTimeoutFailsClearlyAndTheNextCallReconnects() async throws {
        let client = try await connectToTestServer(commandTimeout: .milliseconds(300))
        let key = uniqueKeyPrefix("timeout")
        await #expect {
            try await client.send("BLPOP", key, 5)
        } throws: { error in
            guard case let RedisError.timeout(_, command) = error else { return false }
            return command == "BLPOP"
        }
        #expect(try await client.send("PING") == .status("PONG"))
    }

    @Test func callsFromManyTasksAreSerializedOnTheConnection() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("concurrent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask { try await client.send("INCR", key) }
            }
            try await group.waitForAll()
        }
        #expect(try await client.send("GET", key).integer == 50)
        try await client.delete([key])
    }

    @Test func closedClientRefusesCalls() async throws {
        let client = try await connectToTestServer()
        await client.close()
        await #expect {
            try await client.send("PING")
        } throws: { error in
            if case RedisError.closed = error { return true }
            return false
        }
    }
}

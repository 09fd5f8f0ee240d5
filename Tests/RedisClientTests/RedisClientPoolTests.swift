import RedisClient
import Testing

@Suite struct RedisClientPoolTests {
    @Test func callsAreSpreadOverEveryConnection() async throws {
        let pool = RedisClientPool(configuration: try testConfiguration(), size: 3)
        var connectionIDs = Set<Int64>()
        for _ in 0..<6 {
            connectionIDs.insert(try #require(try await pool.send("CLIENT", "ID").integer))
        }
        #expect(connectionIDs.count == 3)
        await pool.close()
    }

    @Test func concurrentCallsThroughThePoolAllLand() async throws {
        let pool = RedisClientPool(configuration: try testConfiguration(), size: 4)
        let key = uniqueKeyPrefix("pool")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask { try await pool.send("INCR", key) }
            }
            try await group.waitForAll()
        }
        #expect(try await pool.send("GET", key).integer == 200)
        try await pool.send("DEL", key)
    }
}

import PostgresClient
import Testing

@Suite struct PostgresClientPoolTests {
    @Test func callsAreSpreadOverEveryConnection() async throws {
        let pool = PostgresClientPool(configuration: try testConfiguration(), size: 3)
        var backends = Set<Int>()
        for _ in 0..<6 {
            backends.insert(try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self))
        }
        #expect(backends.count == 3)
        await pool.close()
    }

    @Test func transactionRunsWholeOnOneConnection() async throws {
        let pool = PostgresClientPool(configuration: try testConfiguration(), size: 2)
        let pids = try await pool.transaction { tx in
            try [tx.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self),
                 tx.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)]
        }
        #expect(Set(pids).count == 1)
    }
}

import Foundation
import PostgresClient
import Testing

@Suite struct PostgresQueryTests {
    @Test(arguments: [
        "it's \"quoted\"",
        "back\\slash \\x00 \\\\",
        "小智 — emoji 🎙️ and ünïcödé",
        "'; DROP TABLE x; --",
        "line\nbreak\ttab\r",
        "",
    ])
    func awkwardTextRoundTripsAsData(text: String) async throws {
        let client = try await connectToTestServer()
        let table = uniqueTableName("text")
        try await client.execute("CREATE TEMP TABLE \(table) (id serial PRIMARY KEY, body text)")

        #expect(try await client.execute("INSERT INTO \(table) (body) VALUES ($1)", [.text(text)]) == 1)
        let rows = try await client.query("SELECT body, $1::text = body AS same FROM \(table)", [.text(text)])
        #expect(rows.count == 1)
        #expect(try rows[0].decode("body", as: String.self) == text)
        #expect(try rows[0].decode("same", as: Bool.self))
        // The table is still there: the text stayed data.
        #expect(try await client.query("SELECT count(*) AS n FROM \(table)")[0].decode("n", as: Int.self) == 1)
    }

    @Test func injectionAttemptNamingTheTableStaysData() async throws {
        let client = try await connectToTestServer()
        let table = uniqueTableName("injection")
        try await client.execute("CREATE TEMP TABLE \(table) (body text)")
        let attack = "'); DROP TABLE \(table); --"
        try await client.execute("INSERT INTO \(table) (body) VALUES ($1)", [.text(attack)])
        let matches = try await client.query("SELECT body FROM \(table) WHERE body = $1", [.text(attack)])
        #expect(matches.count == 1)
        #expect(try matches[0].decode("body", as: String.self) == attack)
    }

    @Test func nullParametersRoundTripAsNil() async throws {
        let client = try await connectToTestServer()
        let row = try await client.query("SELECT $1::text AS t, $2::int AS i, $3::bool AS b", [nil, .init(nil as Int?), .null])[0]
        #expect(try row.decode("t", as: String?.self) == nil)
        #expect(try row.decode("i", as: Int?.self) == nil)
        #expect(try row.isNull("b"))
    }

    @Test func integersOfEveryWidthDecode() async throws {
        let client = try await connectToTestServer()
        let row = try await client.query(
            "SELECT 32767::int2 AS small, (-2147483648)::int4 AS medium, $1::int8 AS large", [.integer(Int.max)]
        )[0]
        #expect(try row.decode("small", as: Int16.self) == 32767)
        #expect(try row.decode("medium", as: Int32.self) == Int32.min)
        #expect(try row.decode("large", as: Int.self) == Int.max)
        #expect(try row.decode(at: 0, as: Int.self) == 32767)
    }

    @Test func timestamptzAndBoolDecode() async throws {
        let client = try await connectToTestServer()
        let sent = Date(timeIntervalSince1970: 1_795_000_000.654321)
        let row = try await client.query(
            """
            SELECT $1::timestamptz AS sent,
                   timestamptz '2026-01-02 03:04:05.25+08' AS fixed,
                   $2::bool AS yes, false AS no
            """,
            [.timestamp(sent), .bool(true)]
        )[0]
        #expect(abs(try row.decode("sent", as: Date.self).timeIntervalSince(sent)) < 0.000_001)
        #expect(try row.decode("fixed", as: Date.self) == Date(timeIntervalSince1970: 1_767_294_245.25))
        #expect(try row.decode("yes", as: Bool.self) == true)
        #expect(try row.decode("no", as: Bool.self) == false)
    }

    @Test func decodingTheWrongTypeNamesTheColumnButNotTheValue() async throws {
        let client = try await connectToTestServer()
        let row = try await client.query("SELECT $1::text AS secret", ["token-abc123"])[0]
        #expect {
            try row.decode("secret", as: Int.self)
        } throws: { error in
            let text = String(describing: error)
            return (error as? PostgresError)?.kind == .decodingFailed && text.contains("'secret'") && !text.contains("token-abc123")
        }
        #expect {
            try row.decode("missing", as: String.self)
        } throws: { error in
            String(describing: error).contains("no column 'missing'")
        }
    }

    @Test func serverErrorsCarrySQLStateAndMessage() async throws {
        let client = try await connectToTestServer()
        await #expect {
            try await client.query("SELEC 1")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.kind == .queryFailed && error.sqlState == "42601" && error.message.contains("syntax error")
        }
        let table = uniqueTableName("unique")
        try await client.execute("CREATE TEMP TABLE \(table) (id int PRIMARY KEY)")
        try await client.execute("INSERT INTO \(table) VALUES ($1)", [1])
        await #expect {
            try await client.execute("INSERT INTO \(table) VALUES ($1)", [1])
        } throws: { error in
            (error as? PostgresError)?.sqlState == "23505"
        }
        // The connection is still usable after a failed statement.
        #expect(try await client.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
    }

    @Test func transactionCommitsOnSuccessAndRollsBackOnThrow() async throws {
        struct Abort: Error {}
        let client = try await connectToTestServer()
        let table = uniqueTableName("tx")
        try await client.execute("CREATE TEMP TABLE \(table) (name text)")

        let inserted = try await client.transaction { tx in
            try tx.execute("INSERT INTO \(table) VALUES ($1)", ["kept"])
        }
        #expect(inserted == 1)
        await #expect(throws: Abort.self) {
            try await client.transaction { tx in
                try tx.execute("INSERT INTO \(table) VALUES ($1)", ["discarded"])
                throw Abort()
            }
        }
        await #expect(throws: PostgresError.self) {
            try await client.transaction { tx in
                try tx.execute("INSERT INTO \(table) VALUES ($1)", ["also discarded"])
                try tx.execute("INSERT INTO no_such_table_\(UUID().uuidString.prefix(8)) VALUES (1)")
            }
        }
        let names = try await client.query("SELECT name FROM \(table) ORDER BY name").map { try $0.decode("name", as: String.self) }
        #expect(names == ["kept"])
    }

    @Test func statementTimeoutGivesAClearError() async throws {
        let client = try await connectToTestServer(statementTimeout: .milliseconds(200))
        await #expect {
            try await client.query("SELECT pg_sleep(5)")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.isStatementTimeout && error.kind == .queryFailed && String(describing: error).contains("statement timeout")
        }
        #expect(try await client.query("SELECT 2 AS two")[0].decode("two", as: Int.self) == 2)
    }

    @Test func manyRowsDecodeInOrder() async throws {
        let client = try await connectToTestServer()
        let rows = try await client.query("SELECT n, 'row-' || n AS label FROM generate_series(1, $1::int) AS n", [5_000])
        #expect(rows.count == 5_000)
        #expect(try rows.map { try $0.decode("n", as: Int.self) } == Array(1...5_000))
        #expect(try rows.last?.decode("label", as: String.self) == "row-5000")
    }

    @Test func concurrentCallsShareTheConnectionSafely() async throws {
        let client = try await connectToTestServer()
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 1...40 {
                group.addTask { try await client.query("SELECT $1::int + 0 AS v", [.integer(value)])[0].decode("v", as: Int.self) }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == 820)
    }
}

import PostgresClient
import Testing

/// The Postgres server restarts while clients use it: a clear error at most once, then the client works again.
@Suite(.serialized) struct PostgresOutageTests {
    @Test func idleClientReportsTheLostConnectionOnceThenReconnects() async throws {
        let client = try await connectToTestServer()
        #expect(try await client.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)

        try await runServicesScript("restart", "postgres")

        var failures: [PostgresError] = []
        var recovered = false
        for _ in 0..<3 {
            do {
                recovered = try await client.query("SELECT 2 AS two")[0].decode("two", as: Int.self) == 2
                break
            } catch let error as PostgresError {
                failures.append(error)
            }
        }
        #expect(recovered)
        #expect(failures.count <= 1, "more than one error after the restart: \(failures)")
        #expect(failures.allSatisfy { $0.kind == .connectionLost }, "unexpected errors: \(failures)")
    }

    @Test func statementInFlightFailsWhenTheServerGoesAway() async throws {
        let client = try await connectToTestServer()
        let sleeping = Task { try await client.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(300))

        try await runServicesScript("restart", "postgres")

        await #expect {
            _ = try await sleeping.value
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.kind == .connectionLost && String(describing: error).contains("reconnects")
        }
        #expect(try await client.query("SELECT 3 AS three")[0].decode("three", as: Int.self) == 3)
    }

    @Test func serverDownGivesConnectErrorsThenRecoversAfterBackoff() async throws {
        let client = try await connectToTestServer()
        try await runServicesScript("stop-one", "postgres")
        var errors: [PostgresError] = []
        for _ in 0..<3 {
            do { try await client.query("SELECT 1") } catch let error as PostgresError { errors.append(error) }
        }
        try await runServicesScript("start-one", "postgres")
        #expect(errors.count == 3)
        #expect(errors.contains { $0.kind == .connectFailed })
        #expect(errors.allSatisfy { $0.kind == .connectFailed || $0.kind == .connectionLost })

        var recovered = false
        for _ in 0..<50 where !recovered {
            do {
                recovered = try await client.query("SELECT 4 AS four")[0].decode("four", as: Int.self) == 4
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(recovered)
    }
}

import RedisClient
import Testing

/// The Redis server restarts while clients use it: one clear error at most, then the client works again.
@Suite(.serialized) struct RedisOutageTests {
    @Test func idleClientReportsTheLostConnectionOnceThenReconnects() async throws {
        let client = try await connectToTestServer()
        #expect(try await client.send("PING") == .status("PONG"))

        try await runServicesScript("restart", "redis")

        var failures: [RedisError] = []
        var recovered = false
        for _ in 0..<3 {
            do {
                recovered = try await client.send("PING") == .status("PONG")
                break
            } catch let error as RedisError {
                failures.append(error)
            }
        }
        #expect(recovered)
        #expect(failures.count <= 1, "more than one error after the restart: \(failures)")
        for failure in failures {
            guard case .connectionLost = failure else {
                Issue.record("unexpected error kind: \(failure)")
                continue
            }
        }
        let key = uniqueKeyPrefix("after-restart")
        try await client.set(key, "back", expiry: .seconds(60))
        #expect(try await client.get(key) == Array("back".utf8))
    }

    @Test func commandInFlightFailsPromptlyWhenTheServerGoesAway() async throws {
        let client = try await connectToTestServer(commandTimeout: .seconds(30))
        let key = uniqueKeyPrefix("blocked")
        let blocked = Task { try await client.send("BLPOP", key, 25) }
        try await Task.sleep(for: .milliseconds(300))

        try await runServicesScript("restart", "redis")

        await #expect {
            _ = try await blocked.value
        } throws: { error in
            guard case RedisError.connectionLost = error else { return false }
            return String(describing: error).contains("reconnects")
        }
        #expect(try await client.send("PING") == .status("PONG"))
    }

    @Test func serverDownGivesConnectErrorsUntilItReturns() async throws {
        let client = try await connectToTestServer()
        try await runServicesScript("stop-one", "redis")
        var sawConnectFailure = false
        for _ in 0..<2 {
            do {
                _ = try await client.send("PING")
            } catch let error as RedisError {
                if case .connectFailed = error { sawConnectFailure = true }
            }
        }
        try await runServicesScript("start-one", "redis")
        #expect(sawConnectFailure)
        #expect(try await client.send("PING") == .status("PONG"))
    }
}

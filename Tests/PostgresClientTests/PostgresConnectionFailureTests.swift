import ClientSupport
import PostgresClient
import Testing

@Suite struct PostgresConnectionFailureTests {
    @Test func wrongPasswordGivesOneClearErrorWithoutThePassword() async throws {
        var configuration = try testConfiguration()
        configuration.password = "definitely-wrong-password"
        await #expect {
            _ = try await PostgresClient.connect(configuration: configuration)
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            let text = String(describing: error)
            return error.kind == .connectFailed && text.contains("password authentication failed")
                && text.contains(configuration.serverDescription) && !text.contains("definitely-wrong-password")
        }
    }

    @Test func closedPortGivesAConnectError() async throws {
        await #expect {
            _ = try await PostgresClient.connect(url: "postgres://pool:secret-value@127.0.0.1:1/xiaozhi?sslmode=disable")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            let text = String(describing: error)
            return error.kind == .connectFailed && text.contains("127.0.0.1:1/xiaozhi") && text.contains("refused")
                && !text.contains("secret-value")
        }
    }

    @Test func malformedURLFailsBeforeConnecting() async throws {
        await #expect {
            _ = try await PostgresClient.connect(url: "postgres://pool:secret-value@127.0.0.1:port/xiaozhi")
        } throws: { error in
            let text = String(describing: error)
            return (error as? PostgresError)?.kind == .invalidURL && text.contains("pool:***@127.0.0.1:port") && !text.contains("secret-value")
        }
    }

    @Test func unknownDatabaseIsNamed() async throws {
        var configuration = try testConfiguration()
        configuration.database = "no_such_database_here"
        await #expect {
            _ = try await PostgresClient.connect(configuration: configuration)
        } throws: { error in
            String(describing: error).contains("no_such_database_here")
        }
    }

    @Test func failedConnectsBackOffThenSucceedOnceTheServerIsReachable() async throws {
        var configuration = try testConfiguration()
        let realServers = configuration.servers
        configuration.servers = [ServerAddress(host: "127.0.0.1", port: 1)]
        let unreachable = PostgresClient(configuration: configuration)
        var errors: [PostgresError] = []
        for _ in 0..<2 {
            do { try await unreachable.query("SELECT 1") } catch let error as PostgresError { errors.append(error) }
        }
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0.kind == .connectFailed })
        configuration.servers = realServers
        let reachable = PostgresClient(configuration: configuration)
        #expect(try await reachable.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
    }

    @Test func aServerListSkipsADeadServerForTheNextOne() async throws {
        var configuration = try testConfiguration()
        configuration.servers = [ServerAddress(host: "127.0.0.1", port: 1)] + configuration.servers
        let client = PostgresClient(configuration: configuration)
        #expect(try await client.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
    }
}

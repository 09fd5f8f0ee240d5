import RedisClient
import Testing

@Suite struct RedisConnectionFailureTests {
    @Test func wrongPasswordGivesOneClearErrorWithoutThePassword() async throws {
        var configuration = try testConfiguration()
        configuration.password = "definitely-wrong-password"
        await #expect {
            _ = try await RedisClient.connect(configuration: configuration)
        } throws: { error in
            let text = String(describing: error)
            guard case RedisError.authenticationFailed = error else { return false }
            return text.contains(configuration.serverDescription) && !text.contains("definitely-wrong-password")
        }
    }

    @Test func closedPortGivesAConnectError() async throws {
        let url = "redis://:secret-value@127.0.0.1:1/0"
        await #expect {
            _ = try await RedisClient.connect(url: url)
        } throws: { error in
            let text = String(describing: error)
            guard case RedisError.connectFailed = error else { return false }
            return text.contains("127.0.0.1:1") && text.contains("refused") && !text.contains("secret-value")
        }
    }

    @Test func malformedURLFailsBeforeConnecting() async throws {
        await #expect {
            _ = try await RedisClient.connect(url: "redis://:secret-value@127.0.0.1:notaport")
        } throws: { error in
            let text = String(describing: error)
            guard case RedisError.invalidURL = error else { return false }
            return text.contains("redis://:***@127.0.0.1:notaport") && !text.contains("secret-value")
        }
    }

    @Test func unknownDatabaseIsReportedAtConnect() async throws {
        var configuration = try testConfiguration()
        configuration.database = 100_000
        await #expect {
            _ = try await RedisClient.connect(configuration: configuration)
        } throws: { error in
            guard case let RedisError.authenticationFailed(_, message) = error else { return false }
            return message.contains("SELECT 100000")
        }
    }
}

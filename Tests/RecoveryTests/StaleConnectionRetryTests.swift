import PostgresClient
import RedisClient
import Synchronization
import Testing
@testable import Recovery

/// A job's call on a connection that went stale through a server restart is made once more.
@Suite struct StaleConnectionRetryTests {
    struct Refused: Error {}

    @Test func onlyLostConnectionsCount() {
        #expect(StaleConnectionRetry.isConnectionLoss(RedisError.connectionLost(server: "r", reason: "closed")))
        #expect(StaleConnectionRetry.isConnectionLoss(PostgresError(kind: .connectionLost, server: "p", message: "terminated")))
        #expect(!StaleConnectionRetry.isConnectionLoss(RedisError.commandFailed(server: "r", command: "EVALSHA", message: "ERR")))
        #expect(!StaleConnectionRetry.isConnectionLoss(RedisError.connectFailed(server: "r", reason: "refused")))
        #expect(!StaleConnectionRetry.isConnectionLoss(PostgresError(kind: .queryFailed, server: "p", message: "syntax")))
        #expect(!StaleConnectionRetry.isConnectionLoss(Refused()))
    }

    @Test func aLostConnectionIsTriedOnceMore() async throws {
        let calls = Atomic<Int>(0)
        let value = try await StaleConnectionRetry.run {
            if calls.add(1, ordering: .relaxed).newValue == 1 { throw RedisError.connectionLost(server: "r", reason: "closed") }
            return 7
        }
        #expect(value == 7)
        #expect(calls.load(ordering: .relaxed) == 2)
    }

    @Test func aSecondLossAndOtherErrorsAreThrown() async {
        let calls = Atomic<Int>(0)
        await #expect(throws: PostgresError.self) {
            try await StaleConnectionRetry.run { () async throws -> Int in
                calls.add(1, ordering: .relaxed)
                throw PostgresError(kind: .connectionLost, server: "p", message: "terminated")
            }
        }
        #expect(calls.load(ordering: .relaxed) == 2)
        await #expect(throws: Refused.self) {
            try await StaleConnectionRetry.run { () async throws -> Int in
                calls.add(1, ordering: .relaxed)
                throw Refused()
            }
        }
        #expect(calls.load(ordering: .relaxed) == 3)
    }
}

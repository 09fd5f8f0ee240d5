import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// An open that outlasts its connect timeout after its upgrade request went out may still be admitted by
/// the server, and a retry admitted before it would be evicted by it: the attempt keeps its lease for one
/// more connect timeout, and only then is the endpoint tried again.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AbandonedHandshakeTests {
    static let connectTimeout = Duration.seconds(8)

    @Test func anOpenAbandonedAfterItsRequestKeepsTheLeaseAndHoldsTheRetryBackForAConnectTimeout() async throws {
        let cluster = try await PoolCluster(settings: ["Worker__ConnectTimeoutSeconds": "8"])
        try await cluster.startSimulator()
        // A server that accepts the connection and the upgrade request and never answers.
        let silent = try FaultProxy(targetHost: "127.0.0.1", targetPort: cluster.simulatorPort)
        silent.set(.blackhole)
        do {
            let endpointId = PoolCluster.endpointId(1)
            try await cluster.seedEndpoints(1...1)
            _ = try await cluster.postgres.execute(
                "UPDATE \(cluster.schema.endpoints) SET \"Address\" = $2 WHERE \"Id\" = $1",
                [.text(endpointId.rawValue), .text("ws://127.0.0.1:\(silent.port)/mcp/?token=token-1")])
            try cluster.startScheduler()
            let worker = try cluster.startWorker()

            // The hold shows in Redis: the lease is set to lapse a connect timeout on, beyond its usual TTL.
            let leaseKey = RedisKeys.lease(endpointId)
            let holding = try await eventually(timeout: .seconds(60), every: .milliseconds(100)) {
                Int(try await cluster.redis.send("PTTL", leaseKey).integer ?? 0) > Int(FaultScenario.leaseTTL.components.seconds) * 1000 + 500
            }
            try #require(holding, "the abandoned open's lease was not held on:\n\(cluster.logs)")
            #expect(worker.log.contains("holding the lease before the retry"))
            let attemptsAtAbandon = silent.acceptedCount
            let holder = try await cluster.redis.send("GET", leaseKey).string

            // Half the hold later (well past the 1 s first retry step): the same lease, and no new connection.
            try await Task.sleep(for: Self.connectTimeout / 2)
            let holderLater = try await cluster.redis.send("GET", leaseKey).string
            #expect(attemptsAtAbandon == 1, "connections before the abandonment: \(attemptsAtAbandon)")
            #expect(holder != nil && holderLater == holder, "the lease was let go during the hold:\n\(cluster.logs)")
            #expect(silent.acceptedCount == attemptsAtAbandon, "a retry connected during the hold:\n\(cluster.logs)")

            // After the hold the retry runs.
            let retried = await eventually(timeout: .seconds(30)) { silent.acceptedCount > attemptsAtAbandon }
            #expect(retried, "no retry after the hold:\n\(cluster.logs)")
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            silent.close()
            await cluster.shutdown()
            throw error
        }
        silent.close()
        await cluster.shutdown()
    }
}

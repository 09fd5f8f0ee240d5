import Foundation
import Synchronization
import Testing
@testable import Recovery

/// Faults injected into real connections under a running pool, judged from Xiaozhi's side (the
/// simulator): a duplicate session evicts the older one, so evictions count duplicates.
@Suite(.serialized, .timeLimit(.minutes(6)))
struct FaultInjectionOutageTests {
    /// Lease TTL of these clusters (the harness's fast settings).
    static let leaseTTL = Duration.seconds(4)

    /// Polls the simulator's eviction count until `until` says stop; returns the largest count seen.
    static func watchEvictions(_ cluster: PoolCluster, for duration: Duration) async -> Int {
        var most = 0
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if let status = try? await cluster.simulatorStatus() { most = max(most, status.evictions) }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return most
    }

    @Test func aWorkerCutOffFromRedisClosesItsSessionsBeforeAnotherTakesThem() async throws {
        let cluster = try await PoolCluster()
        let redis = cluster.redisAddress
        let proxy = try FaultProxy(targetHost: redis.host, targetPort: redis.port)
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(20)
            try cluster.startScheduler()
            // The worker behind the proxy takes every endpoint before the other one starts.
            let cutOff = try cluster.startWorker(overrides: ["REDIS_URL": cluster.redisURL(throughPort: proxy.port)])
            #expect(try await cluster.waitUntilConnected(20, timeout: .seconds(40)), "\(cluster.logs)")
            let healthy = try cluster.startWorker()
            try await Task.sleep(for: .seconds(2))
            #expect(try await cluster.simulatorStatus().evictions == 0)

            // Partitioned for three lease TTLs: its sessions must close before their leases lapse, and
            // the healthy worker takes every endpoint over.
            let started = ContinuousClock.now
            proxy.set(.blackhole)
            let duringPartition = await Self.watchEvictions(cluster, for: Self.leaseTTL * 3)
            let allBackDuring = try await cluster.waitUntilConnected(20, timeout: .seconds(20))
            let backAfter = ContinuousClock.now - started
            proxy.set(.forward)
            // Healed: no eviction in the time that follows, and every endpoint stays up.
            let afterHeal = await Self.watchEvictions(cluster, for: .seconds(10))
            #expect(try await cluster.waitUntilConnected(20, timeout: .seconds(30)), "\(cluster.logs)")
            let status = try await cluster.simulatorStatus()
            print("redis blackhole \(Self.leaseTTL * 3): evictions during \(duringPartition), after heal \(afterHeal); all back after \(backAfter); connected \(status.connectedCount)")
            #expect(duringPartition == 0, "sessions evicted by a duplicate during the partition:\n\(cluster.logs)")
            #expect(afterHeal == 0, "sessions evicted by a duplicate after the partition healed:\n\(cluster.logs)")
            #expect(allBackDuring, "endpoints not back while the worker was cut off:\n\(cluster.logs)")
            #expect(cutOff.log.contains("lease renewal was not confirmed in time"), "\(cutOff.log.suffix(4000))")
            for process in [cluster.scheduler, cutOff, healthy].compactMap({ $0 }) {
                #expect(process.isRunning, "\(process.name) exited:\n\(process.log)")
            }
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            proxy.close()
            await cluster.shutdown()
            throw error
        }
        proxy.close()
        await cluster.shutdown()
    }
}

import Foundation
import RecoveryCore
import Synchronization
import Testing
@testable import Recovery

/// Faults injected into real connections under a running pool, judged from Xiaozhi's side (the
/// simulator): a duplicate session evicts the older one, so evictions count duplicates. Sized by
/// `XZ_FAULT_ENDPOINTS` and `XZ_FAULT_WORKERS`; prints a `fault …` line of figures (`FaultFigures`).
@Suite(.serialized, .timeLimit(.minutes(6)))
struct FaultInjectionOutageTests {
    /// Lease TTL of these clusters (the harness's fast settings).
    static let leaseTTL = FaultScenario.leaseTTL

    @Test func aWorkerCutOffFromRedisClosesItsSessionsBeforeAnotherTakesThem() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await Self.withRedisProxy { cluster, proxy in
            var figures = FaultFigures(name: "redis-blackhole", endpoints: count, workers: workerCount)
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            // The worker behind the proxy takes every endpoint before the others start.
            let cutOff = try cluster.startWorker(overrides: ["REDIS_URL": cluster.redisURL(throughPort: proxy.port)])
            #expect(try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count)), "\(cluster.logs)")
            for _ in 1..<workerCount { try cluster.startWorker() }
            try await Task.sleep(for: .seconds(2))
            #expect(try await cluster.simulatorStatus().evictions == 0)

            // Partitioned for three lease TTLs: its sessions must close before their leases lapse, and
            // the healthy workers take every endpoint over.
            let started = ContinuousClock.now
            proxy.set(.blackhole)
            let duringPartition = await FaultScenario.watchEvictions(cluster, for: Self.leaseTTL * 3)
            figures.allBackSeconds = try await FaultScenario.secondsUntilConnected(cluster, count, since: started, timeout: FaultScenario.connectTimeout(count) / 2)
            let allBackDuring = figures.allBackSeconds != nil
            proxy.set(.forward)
            // Healed: no eviction in the time that follows, and every endpoint stays up.
            let afterHeal = await FaultScenario.watchEvictions(cluster, for: .seconds(10)) - duringPartition
            #expect(try await cluster.waitUntilConnected(count, timeout: .seconds(30)), "\(cluster.logs)")
            figures.evictionsDuring = duringPartition
            figures.evictionsAfter = afterHeal
            figures.neverBack = try await FaultScenario.notConnected(cluster, 1...count).count
            figures.alive = FaultScenario.processesAlive(cluster)
            figures.extra = [("blackhole_seconds", "\(Int(FaultScenario.seconds(Self.leaseTTL * 3)))")]
            figures.report()
            #expect(duringPartition == 0, "sessions evicted by a duplicate during the partition:\n\(cluster.logs)")
            #expect(afterHeal == 0, "sessions evicted by a duplicate after the partition healed:\n\(cluster.logs)")
            #expect(allBackDuring, "endpoints not back while the worker was cut off:\n\(cluster.logs)")
            #expect(cutOff.log.contains("lease renewal was not confirmed in time"), "\(cutOff.log.suffix(4000))")
            for process in [cluster.scheduler].compactMap({ $0 }) + cluster.workers {
                #expect(process.isRunning, "\(process.name) exited:\n\(process.log)")
            }
        }
    }

    /// SIGTERM to a worker whose Redis went silent: it closes every session (the hand-off touches no server
    /// before the close), gives up on the releases at their command timeout, leaves a renewal in flight and
    /// its own record to lapse, and exits within its bound; its leases lapse and the healthy worker takes
    /// every endpoint over without a duplicate.
    @Test func aWorkerStoppedWhileItsRedisIsSilentClosesItsSessionsAndExits() async throws {
        let count = FaultScenario.endpoints
        // The pool's defaults, under which a Redis call gives up after a third of the TTL (5 s).
        try await Self.withRedisProxy(settings: [
            "Recovery__LeaseTtlSeconds": "\(Int(Self.defaultTTL.components.seconds))",
            "Recovery__ShutdownGraceSeconds": "\(Int(Self.defaultShutdownGrace.components.seconds))",
        ]) { cluster, proxy in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            let stopping = try cluster.startWorker(overrides: ["REDIS_URL": cluster.redisURL(throughPort: proxy.port)])
            #expect(try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count)), "\(cluster.logs)")
            let staying = try cluster.startWorker()
            try await Task.sleep(for: .seconds(2))
            let stoppingInstances = Set(try await cluster.connectedStates().values.map(\.instanceId))
            let evictionsBefore = try await cluster.simulatorStatus().evictions

            proxy.set(.blackhole)
            let signalled = ContinuousClock.now
            stopping.send(SIGTERM)
            let closed = try await eventually(timeout: Self.defaultTTL, every: .milliseconds(50)) {
                try await cluster.simulatorStatus().connectedCount == 0
            }
            let closedAfter = ContinuousClock.now - signalled
            // `worker run`'s own bound: the grace and five seconds (`PoolProcess.run`'s extra grace).
            let bound = Self.defaultShutdownGrace + .seconds(5)
            let status = await stopping.waitForExit(timeout: bound - (ContinuousClock.now - signalled))
            let exitTook = ContinuousClock.now - signalled
            let allBack = try await eventually(timeout: FaultScenario.connectTimeout(count)) {
                try await FaultScenarioOutageTests.allHeldElsewhere(cluster, count, awayFrom: stoppingInstances)
            }
            let evictions = try await cluster.simulatorStatus().evictions - evictionsBefore
            print("worker stopped with its Redis silent: sessions closed \(closed ? "\(closedAfter)" : "not all") after SIGTERM, exited \(status.map { "with \($0)" } ?? "not at all") \(exitTook) after SIGTERM (bound \(bound)), all \(count) back elsewhere \(allBack), evictions \(evictions)")

            #expect(closed, "the stopping worker's sessions were not closed within a lease TTL:\n\(stopping.log.suffix(6000))")
            #expect(status == 0, "the worker did not exit cleanly within its bound (\(bound)) of SIGTERM:\n\(stopping.log.suffix(6000))")
            #expect(allBack, "endpoints not taken over by the healthy worker:\n\(cluster.logs)")
            #expect(evictions == 0, "sessions evicted by a duplicate:\n\(cluster.logs)")
            #expect(stopping.log.contains("its lease lapses by itself"), "\(stopping.log.suffix(4000))")
            #expect(stopping.log.contains("this worker's record; it lapses on its own"), "\(stopping.log.suffix(4000))")
            for process in [cluster.simulator, cluster.scheduler, staying].compactMap({ $0 }) {
                #expect(process.isRunning, "\(process.name) exited:\n\(process.log.suffix(6000))")
            }
        }
    }

    /// Runs `body` on a new cluster with a fault proxy in front of its Redis, for the workers started
    /// through it; the proxy closes before the cluster shuts down.
    static func withRedisProxy(settings: [String: String] = [:], _ body: (PoolCluster, FaultProxy) async throws -> Void) async throws {
        try await FaultScenario.withCluster(settings: settings) { cluster in
            let redis = cluster.redisAddress
            let proxy = try FaultProxy(targetHost: redis.host, targetPort: redis.port)
            defer { proxy.close() }
            try await body(cluster, proxy)
        }
    }

    /// `Recovery:LeaseTtlSeconds` and `Recovery:ShutdownGraceSeconds` by default.
    static let defaultTTL = Duration.seconds(Int(ConfigurationKeys.leaseTtl.defaultValue)!)
    static let defaultShutdownGrace = Duration.seconds(Int(ConfigurationKeys.shutdownGrace.defaultValue)!)
}

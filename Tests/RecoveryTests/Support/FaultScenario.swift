import Foundation
import RedisClient
import RecoveryCore
import Testing

/// What the fault scenarios share: their size (from the environment, so `scripts/reliability.sh` can run
/// the same scenarios larger), the harness's lease TTL, and the reads of the simulator's side that judge
/// them (a duplicate session evicts the older one at Xiaozhi, so evictions count duplicates).
enum FaultScenario {
    /// Lease TTL of the clusters (`PoolCluster.fastSettings`).
    static let leaseTTL = Duration.seconds(4)

    /// Endpoints per scenario: `XZ_FAULT_ENDPOINTS`, 20 by default.
    static var endpoints: Int { sizeFromEnvironment("XZ_FAULT_ENDPOINTS", default: 20, minimum: 10) }

    /// Workers per scenario: `XZ_FAULT_WORKERS`, 2 by default; at least 2, so one can take over from another.
    static var workers: Int { sizeFromEnvironment("XZ_FAULT_WORKERS", default: 2, minimum: 2) }

    /// A value too small to run the scenario (it needs a few faulty endpoints beside healthy ones, and a
    /// second worker) is raised to the minimum rather than failing the run.
    static func sizeFromEnvironment(_ name: String, default fallback: Int, minimum: Int) -> Int {
        guard let text = ProcessInfo.processInfo.environment[name], let value = Int(text) else { return fallback }
        return max(minimum, value)
    }

    /// How long `count` endpoints may take to connect: a fixed part for process start-up and the first
    /// reconcile cycle, plus a share per endpoint so that larger runs are not cut short on two cores.
    static func connectTimeout(_ count: Int) -> Duration {
        .seconds(40) + .milliseconds(150 * count)
    }

    /// The simulator's eviction counter now, read from the cheap `/counts`; nil while it does not answer.
    static func evictions(_ cluster: PoolCluster) async -> Int? {
        guard let data = try? await cluster.httpRaw("GET", "/counts"),
              let counts = try? JSONDecoder().decode(SimulatorCountsView.self, from: data) else { return nil }
        return counts.evictions
    }

    /// Polls the simulator's eviction count for `duration`; returns the largest count seen (the counter
    /// only grows, so a missed read loses nothing).
    static func watchEvictions(_ cluster: PoolCluster, for duration: Duration) async -> Int {
        var most = 0
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if let seen = await evictions(cluster) { most = max(most, seen) }
            try? await Task.sleep(for: .milliseconds(200))
        }
        if let seen = await evictions(cluster) { most = max(most, seen) }
        return most
    }

    /// Waits until the simulator and Redis both hold `count` sessions; the seconds it took since `since`,
    /// or nil when it did not happen within `timeout`.
    static func secondsUntilConnected(_ cluster: PoolCluster, _ count: Int, since: ContinuousClock.Instant, timeout: Duration) async throws -> Double? {
        guard try await cluster.waitUntilConnected(count, timeout: timeout) else { return nil }
        return seconds(ContinuousClock.now - since)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The endpoints among `indices` that have no session at the simulator.
    static func notConnected(_ cluster: PoolCluster, _ indices: some Sequence<Int>) async throws -> [Int] {
        let connected = Set(try await cluster.simulatorStatus().connectedTokenIds)
        return indices.filter { !connected.contains(SimulatorTokens.tokenId(endpoint: $0)) }
    }

    /// Evicted sessions whose client was still there to answer the close: the simulator logs those with the
    /// eviction's reason. An upgrade the client had already given up on (closed before the simulator admitted
    /// it) is counted as an eviction too, but ends without a close handshake and is not logged so: the
    /// difference tells a live session lost from a dead connection replaced.
    static func evictionsOfOpenSessions(_ cluster: PoolCluster) -> Int {
        guard let log = cluster.simulator?.log else { return 0 }
        return log.split(separator: "\n").filter { $0.contains("closed with 1000") && $0.contains("replaced by a new connection") }.count
    }

    /// Whether every process of the cluster (simulator, scheduler, workers) still runs.
    static func processesAlive(_ cluster: PoolCluster) -> Bool {
        ([cluster.simulator, cluster.scheduler].compactMap { $0 } + cluster.workers).allSatisfy(\.isRunning)
    }

    /// The processes that exited, with their logs, for a failure message.
    static func exited(_ cluster: PoolCluster) -> String {
        ([cluster.simulator, cluster.scheduler].compactMap { $0 } + cluster.workers)
            .filter { !$0.isRunning }
            .map { "==== \($0.name) exited\n\($0.log.suffix(6000))" }
            .joined(separator: "\n")
    }

    /// The milliseconds left on the leases of the endpoints numbered `indices`; endpoints without a lease
    /// are left out.
    static func leaseMillisecondsLeft(_ cluster: PoolCluster, _ indices: some Sequence<Int>) async throws -> [Int64] {
        let commands = indices.map { RedisCommand("PTTL", RedisKeys.lease(PoolCluster.endpointId($0))) }
        return try await cluster.redis.pipeline(commands).compactMap(\.integer).filter { $0 > 0 }
    }

    /// Runs `body` on a new cluster and always shuts the cluster down; on an error the logs are recorded.
    static func withCluster(settings: [String: String] = [:], servers: PoolCluster.Servers = .single, _ body: (PoolCluster) async throws -> Void) async throws {
        let cluster = try await PoolCluster(settings: settings, servers: servers)
        do {
            try await body(cluster)
        } catch {
            Issue.record("cluster logs:\n\(cluster.logs)")
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}

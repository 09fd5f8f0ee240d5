import ArgumentParser
import Foundation
import Recovery
import RecoveryCore
import RedisClient

/// `bench lease-acquire`: what `Redis:AcquireReplicas` costs. Takes leases one after another and many at
/// once, without and with a `WAIT` for the replicas, rounds in turn so a busy machine slows both alike.
struct LeaseAcquireBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease-acquire",
        abstract: "Lease acquire latency and rate, without and with WAIT for replicas (REDIS_URL must be a master with replicas).")

    @Option(help: "Leases per round.")
    var leases = 2_000

    @Option(help: "Acquires in flight at once in the concurrent rounds.")
    var concurrency = 32

    @Option(help: "Replicas the WAIT asks for.")
    var replicas = 1

    @Option(help: "Rounds of each kind.")
    var rounds = 3

    func run() async throws {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw ValidationError("REDIS_URL is not set (a master with a replica: eval \"$(scripts/ha-services.sh start)\"; REDIS_URL=$HA_REDIS_URL)")
        }
        let redis = try await RedisClient.connect(url: url)
        let plain = RedisPoolState(redis: redis)
        let waiting = RedisPoolState(redis: redis, acquireReplicas: replicas)
        var figures: [String: [(p50: Double, p99: Double, rate: Double)]] = [:]
        for round in 0..<rounds {
            for (name, store) in [("no WAIT", plain), ("WAIT \(replicas)", waiting)] {
                for inFlight in [1, concurrency] {
                    let result = try await measure(store, inFlight: inFlight, prefix: "bench-lease-\(round)-\(name.count)-\(inFlight)-")
                    figures["\(name), \(inFlight) at once", default: []].append(result)
                }
            }
        }
        print("lease acquire (EVALSHA of the acquire script\(replicas > 0 ? ", then WAIT \(replicas) 250 in the same round trip" : "")), \(leases) leases a round, \(rounds) rounds, REDIS_URL \(redis.configuration.serverDescription)")
        for key in figures.keys.sorted() {
            let runs = figures[key]!
            let p50 = runs.map(\.p50).sorted()[runs.count / 2], p99 = runs.map(\.p99).sorted()[runs.count / 2]
            let rate = runs.map(\.rate).sorted()[runs.count / 2]
            print(String(format: "  %-22@ p50 %.3f ms, p99 %.3f ms, %.0f acquires/s (medians of rounds)", key as NSString, p50, p99, rate))
        }
        _ = try await redis.send("EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", 0, "redlock:mcp:lock:connection:bench-lease-*")
        _ = try await redis.send("EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", 0, "mcp:recovery:fence:bench-lease-*")
        await redis.close()
    }

    private func measure(_ store: RedisPoolState, inFlight: Int, prefix: String) async throws -> (p50: Double, p99: Double, rate: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let total = leases
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for lane in 0..<inFlight {
                group.addTask {
                    var own: [Double] = []
                    var index = lane
                    while index < total {
                        let begun = clock.now
                        _ = try await store.leases.acquire(endpointId: EndpointID(prefix + String(index)), token: "t", ttl: .seconds(30), foreignHeartbeatTimeout: nil)
                        let elapsed = clock.now - begun
                        own.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                        index += inFlight
                    }
                    return own
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }.sorted()
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)], Double(total) / seconds)
    }
}

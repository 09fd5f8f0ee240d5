import AMQPClient
import ArgumentParser
import Foundation
import Logging
import PostgresClient
import Recovery
import RecoveryCore
import RedisClient

/// `bench pipeline`: the recovery pipeline's scheduler side against the real servers: one reconcile
/// cycle with every endpoint live, and publishing the jobs of endpoints that are all missing.
struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "The scheduler's reconcile cycle and job publishing against Postgres, Redis and RabbitMQ.",
        subcommands: [PipelineCycleBench.self, PipelinePublishBench.self])
}

/// The options both pipeline benchmarks share: where to put their data.
struct PipelineNamespaceOptions: ParsableArguments {
    @Option(help: "Redis database the benchmark owns (flushed before and after).")
    var redisDatabase = 14

    @Option(help: "Table prefix of the benchmark's endpoint tables (dropped afterwards).")
    var tablePrefix = "benchpipe_"

    @Option(help: "Queue name prefix of the benchmark's topology (deleted afterwards).")
    var queuePrefix = "bench.pipeline"
}

/// One cycle with N enabled endpoints, all live: Postgres query, pipelined Redis read, planning, and the
/// whole `Reconciler.reconcile()` (nothing to act on).
struct PipelineCycleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cycle",
        abstract: "Time Reconciler.reconcile() with N enabled endpoints, all live, split into its reads and planning.")

    @OptionGroup var namespace: PipelineNamespaceOptions

    @Option(name: .long, parsing: .upToNextOption, help: "Enabled endpoint counts.")
    var endpoints: [Int] = [1_000, 10_000, 100_000]

    @Option(help: "Timed cycles per count (after one warm-up).")
    var runs = 5

    @Flag(inversion: .prefixedNo, help: "Also time cycles that read every key.")
    var fullRead = true

    func run() async throws {
        let harness = try await PipelineHarness(namespace: namespace)
        do {
            print("reconcile cycle, all endpoints live, \(runs) timed cycles after one warm-up (median, min, max)")
            for count in endpoints {
                try await harness.reset()
                let seedStart = ContinuousClock.now
                try await harness.seedEndpoints(count)
                try await harness.seedLiveStates(count)
                print(String(format: "endpoints=%d seeded in %.1f s", count, (ContinuousClock.now - seedStart).seconds))
                try await measureCycle(harness: harness, count: count)
            }
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    private func measureCycle(harness: PipelineHarness, count: Int) async throws {
        // The scheduler's own reconciler (its first cycle, the warm-up, is a full read), and one that
        // reads every key every cycle (`Scheduler:FullReadEveryCycles` = 1), as every tenth cycle does.
        let steady = try harness.reconciler()
        let everyKey = try harness.reconciler(fullReadEveryCycles: 1)
        let planner = ReconcilePlanner(policy: harness.configuration.reconcilePolicy)
        var query: [Duration] = [], indexRead: [Duration] = [], fullReads: [Duration] = [], planning: [Duration] = []
        var steadyCycles: [Duration] = [], earlyCycles: [Duration] = [], fullCycles: [Duration] = [], steadyCPU: [Double] = []
        var keysRead = 0
        var cache = HeldSessionsCache()
        let clock = ContinuousClock()
        for run in 0...max(1, runs) {
            // The whole cycle, as the leading scheduler runs it between full reads.
            var start = clock.now
            let cpuBefore = ProcessCPU.milliseconds()
            let outcome = try await steady.reconcile()
            let cycle = clock.now - start
            let cycleCPU = ProcessCPU.milliseconds() - cpuBefore
            try Self.expectAllLive(outcome.report, count: count, what: "reconcile()")
            // A cycle started early by lapsed leases: the enabled endpoints just read stand in for Postgres's.
            start = clock.now
            let early = try await steady.reconcile(afterLapses: true)
            let earlyCycle = clock.now - start
            try Self.expectAllLive(early.report, count: count, what: "reconcile(afterLapses:)")
            // A cycle that reads every key.
            var fullCycle = Duration.zero
            if fullRead {
                start = clock.now
                let full = try await everyKey.reconcile()
                fullCycle = clock.now - start
                try Self.expectAllLive(full.report, count: count, what: "full-read reconcile()")
            }
            // The split: the query, the Redis read both ways, planning.
            start = clock.now
            let enabled = try await harness.directory.enabledEndpoints()
            let queried = clock.now - start
            var fullReadTime = Duration.zero
            if fullRead {
                start = clock.now
                _ = try await harness.store.reconcile.observe(enabled: enabled, cache: &cache, fullRead: true)
                fullReadTime = clock.now - start
            }
            start = clock.now
            let observed = try await harness.store.reconcile.observe(enabled: enabled, cache: &cache, fullRead: false)
            let indexReadTime = clock.now - start
            start = clock.now
            let plan = planner.plan(observed.input(now: Date()))
            let planned = clock.now - start
            try Self.expectAllLive(plan.report, count: count, what: "the planner")
            keysRead = observed.keysRead
            if run == 0 { continue }
            steadyCycles.append(cycle); earlyCycles.append(earlyCycle); fullCycles.append(fullCycle); steadyCPU.append(cycleCPU)
            query.append(queried); indexRead.append(indexReadTime); fullReads.append(fullReadTime); planning.append(planned)
        }
        steadyCPU.sort()
        print(String(
            format: "endpoints=%7d  reconcile() %@, cpu %.1f ms | postgres query %@ | redis read via the held index %@ (%d keys read) | planning %@ | load %@",
            count, Self.figure(steadyCycles), steadyCPU[steadyCPU.count / 2], Self.figure(query), Self.figure(indexRead), keysRead,
            Self.figure(planning), LoadAverage.current()))
        print("                   cycle started by lapsed leases (the enabled endpoints of the cycle before) \(Self.figure(earlyCycles))")
        guard fullRead else { return }
        print("                   full-read cycle (every key, each Scheduler:FullReadEveryCycles-th cycle) \(Self.figure(fullCycles)) | its redis read alone \(Self.figure(fullReads))")
    }

    private static func expectAllLive(_ report: ReconcileReport, count: Int, what: String) throws {
        guard report.enqueued.isEmpty, report.live.count == count else {
            throw ValidationError("\(what): \(report.live.count) of \(count) live and \(report.enqueued.count) jobs with everything live")
        }
    }

    static func figure(_ samples: [Duration]) -> String {
        let sorted = samples.sorted()
        return String(format: "%.1f ms (%.1f-%.1f)", sorted[sorted.count / 2].milliseconds, sorted.first!.milliseconds, sorted.last!.milliseconds)
    }
}

/// N missing endpoints: time to publish all their jobs with confirms, through `Reconciler.reconcile()`,
/// then split into its steps (pending markers one script call each, the confirmed batch publish, the
/// cooldown clocks), plus the pending markers as one pipeline for comparison.
struct PipelinePublishBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Time publishing the jobs of N missing endpoints with confirms and pending markers.")

    @OptionGroup var namespace: PipelineNamespaceOptions

    @Option(help: "Missing endpoints.")
    var endpoints = 10_000

    @Option(help: "Timed rounds (the jobs queue is purged and Redis flushed between them).")
    var runs = 3

    func run() async throws {
        let harness = try await PipelineHarness(namespace: namespace)
        do {
            try await harness.reset()
            try await harness.seedEndpoints(endpoints)
            print("publishing the jobs of \(endpoints) missing endpoints, \(runs) rounds (median, min, max)")
            try await measure(harness: harness)
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    private func measure(harness: PipelineHarness) async throws {
        let clock = ContinuousClock()
        let pendingTTL = Duration.seconds(harness.configuration.pendingTtlSeconds)
        var cycles: [Duration] = [], marks: [Duration] = [], publishes: [Duration] = [], clocks: [Duration] = [], pipelined: [Duration] = []
        for _ in 0..<max(1, runs) {
            // Whole: one cycle that finds every endpoint missing and publishes.
            try await harness.clearRound()
            var start = clock.now
            let outcome = try await harness.reconciler().reconcile()
            cycles.append(clock.now - start)
            guard outcome.report.enqueued.count == endpoints else {
                throw ValidationError("reconcile enqueued \(outcome.report.enqueued.count) of \(endpoints)")
            }

            // Split: the same steps as `Reconciler.publish`, one at a time.
            try await harness.clearRound()
            let now = Date()
            let plan = try await harness.reconciler().plan(now: now)
            let jobs = plan.jobs.map { $0.job(jobId: UUID().uuidString.lowercased(), at: now) }
            start = clock.now
            var marked: [RecoveryJob] = []
            for job in jobs where try await harness.store.markers.markPending(endpointId: job.endpointId, jobId: job.jobId, ttl: pendingTTL) {
                marked.append(job)
            }
            marks.append(clock.now - start)
            start = clock.now
            let outcomes = try await harness.bus.publish(jobs: marked)
            publishes.append(clock.now - start)
            let confirmed = outcomes.filter(\.isConfirmed).count
            guard confirmed == endpoints else { throw ValidationError("\(confirmed) of \(endpoints) publishes confirmed") }
            start = clock.now
            try await harness.store.markers.recordAttempts(endpointIds: marked.map(\.endpointId), at: now)
            clocks.append(clock.now - start)

            // The pending markers as `Reconciler.publish` sets them: one pipeline (each also lists its job).
            _ = try await harness.redis.send("FLUSHDB")
            start = clock.now
            let batch = try await harness.store.markers.markPending(jobs.map { ($0.endpointId, $0.jobId) }, ttl: pendingTTL)
            pipelined.append(clock.now - start)
            guard batch.count == jobs.count else { throw ValidationError("pipelined pending markers: \(batch.count) of \(jobs.count) set") }
        }
        let rate = Double(endpoints) / cycles.sorted()[cycles.count / 2].seconds
        print(String(format: "reconcile() publishing %d jobs: %@  = %.0f jobs/s  | load %@", endpoints, PipelineCycleBench.figure(cycles), rate, LoadAverage.current()))
        print("  pending markers, one EVALSHA round trip each: \(PipelineCycleBench.figure(marks))")
        print("  JobBus.publish(jobs:) confirmed batch:        \(PipelineCycleBench.figure(publishes))")
        print("  cooldown clocks (one HSET):                   \(PipelineCycleBench.figure(clocks))")
        print("  pending markers as one pipeline (as published): \(PipelineCycleBench.figure(pipelined))")
    }
}

/// The servers and the benchmark's own namespace on them: a Redis database, a table prefix, a queue prefix.
final class PipelineHarness: Sendable {
    let configuration: PoolConfiguration
    /// The environment the configuration was loaded from.
    let settings: [String: String]
    let redis: RedisClient
    let postgres: PostgresClient
    let amqp: AMQPConnection
    let schema: EndpointSchema
    let directory: PostgresEndpointDirectory
    let store: RedisPoolState
    let bus: JobBus
    let logger: Logger

    init(namespace: PipelineNamespaceOptions) async throws {
        let environment = ProcessInfo.processInfo.environment
        for name in ["DATABASE_URL", "REDIS_URL", "AMQP_URL"] where (environment[name] ?? "").isEmpty {
            throw ValidationError("\(name) is not set (eval \"$(scripts/services.sh start)\")")
        }
        guard var redisURL = URLComponents(string: environment["REDIS_URL"]!) else {
            throw ValidationError("REDIS_URL is not a URL")
        }
        redisURL.path = "/\(namespace.redisDatabase)"
        var settings = environment
        settings["REDIS_URL"] = redisURL.string
        settings["Database__TablePrefix"] = namespace.tablePrefix
        settings["Queue__Prefix"] = namespace.queuePrefix
        configuration = try ConfigurationLoader.load(fileContents: nil, environment: settings, overrides: [])
        self.settings = settings
        var logger = Logger(label: "bench.pipeline")
        logger.logLevel = .warning
        self.logger = logger
        redis = try await RedisClient.connect(url: redisURL.string!)
        postgres = try await PostgresClient.connect(url: environment["DATABASE_URL"]!)
        amqp = try await AMQPConnection.connect(url: environment["AMQP_URL"]!, connectionName: "bench-pipeline", logger: logger)
        schema = try EndpointSchema(prefix: namespace.tablePrefix)
        directory = PostgresEndpointDirectory(client: postgres, schema: schema)
        store = RedisPoolState(redis: redis)
        bus = JobBus(connection: amqp, topology: configuration.topology)
        try await TopologyDeclarer.declare(configuration.topology, on: amqp)
    }

    /// A reconciler over the benchmark's namespace (fresh: no vanish-grace memory, no held-index copy),
    /// optionally reading every key every `fullReadEveryCycles` cycles.
    func reconciler(fullReadEveryCycles: Int? = nil) throws -> Reconciler {
        var settings = self.settings
        if let fullReadEveryCycles { settings["Scheduler__FullReadEveryCycles"] = String(fullReadEveryCycles) }
        let configuration = try ConfigurationLoader.load(fileContents: nil, environment: settings, overrides: [])
        return Reconciler(directory: directory, store: store.stores, bus: bus, configuration: configuration, metrics: PoolMetrics(), logger: logger)
    }

    /// Empty tables, an empty Redis database and empty queues.
    func reset() async throws {
        try await dropTables()
        try await directory.migrate()
        try await clearRound()
    }

    /// Flushes Redis and purges the jobs queue.
    func clearRound() async throws {
        _ = try await redis.send("FLUSHDB")
        _ = try await amqp.purgeQueue(configuration.topology.jobsQueue)
    }

    /// Inserts `count` enabled endpoints in one statement.
    func seedEndpoints(_ count: Int) async throws {
        _ = try await postgres.execute("""
            INSERT INTO \(schema.endpoints) ("Id", "Name", "Address", "UserId", "IsEnabled", "IsConnected", "CreatedAt", "UpdatedAt")
            SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'endpoint-' || i,
                   'ws://127.0.0.1:9/mcp/?token=bench-' || i, 'bench-user', true, true, now() - interval '1 day', now() - interval '1 day'
            FROM generate_series(1, $1::int) AS i
            """, [.text(String(count))])
    }

    /// Gives endpoints 1...count a lease and a connected state written the way a worker writes it
    /// (`RedisPoolState.writeStates`: state, index entry, held-sessions index), pipelined.
    func seedLiveStates(_ count: Int) async throws {
        let now = Date()
        var leases: [RedisCommand] = []
        var states: [(state: ConnectionState, token: String)] = []
        for index in 1...count {
            let id = EndpointID(String(format: "00000000-0000-4000-8000-%012x", index))
            let token = "bench-token-\(index)"
            leases.append(RedisCommand("SET", arguments: [RedisKeys.lease(id), token, "PX", 3_600_000]))
            states.append((ConnectionState(
                endpointId: id, instanceId: "bench-worker-\(index % 4)", status: .connected,
                lastConnectedTime: now.addingTimeInterval(-600), lastHeartbeat: now,
                endpointName: "endpoint-\(index)", webSocketEndpoint: "ws://127.0.0.1:9/mcp/?token=bench-\(index)", fence: index), token))
            if leases.count >= 5_000 || index == count {
                let replies = try await redis.pipeline(leases)
                if let failure = replies.first(where: { $0.errorMessage != nil }) {
                    throw ValidationError("seeding Redis failed: \(failure.errorMessage ?? "")")
                }
                let lost = try await store.states.write(states)
                guard lost.isEmpty else { throw ValidationError("seeding Redis failed: \(lost.count) states not written") }
                leases.removeAll(keepingCapacity: true)
                states.removeAll(keepingCapacity: true)
            }
        }
    }

    private func dropTables() async throws {
        for table in [schema.tools, schema.bindings, schema.serviceConfigs, schema.endpoints] {
            _ = try await postgres.execute("DROP TABLE IF EXISTS \(table)")
        }
    }

    /// Drops the tables, flushes the Redis database, deletes the topology, closes the connections.
    func tearDown() async {
        try? await dropTables()
        _ = try? await redis.send("FLUSHDB")
        let topology = configuration.topology
        for queue in topology.queueNames { _ = try? await amqp.deleteQueue(queue) }
        for exchange in topology.exchanges { try? await amqp.deleteExchange(exchange.name) }
        await amqp.close()
        await postgres.close()
        await redis.close()
    }
}

/// The machine's load averages, printed next to every figure (the machine is shared).
enum LoadAverage {
    static func current() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

import AMQPClient
import Foundation
import Logging
import RecoveryCore
import ServiceLifecycle
import Synchronization

/// `scheduler run`: the reconcile loop (only while this process holds the leader lease), the results
/// consumer, the watch on dead letters, and the queue-depth gauges.
public final class SchedulerRuntime: Service, Sendable {
    let configuration: PoolConfiguration
    let reconciler: Reconciler
    let store: RedisPoolState
    let publisher: AMQPConnection
    let consumer: AMQPConnection
    let topology: Topology
    let metrics: PoolMetrics
    let logger: Logger
    let leaderToken = UUID().uuidString.lowercased()
    let tally = ResultTally()
    let resultHistory: ResultHistoryRecorder
    let deadLetterWatch: DeadLetterWatch

    public init(configuration: PoolConfiguration, directory: any EndpointDirectory, store: RedisPoolState, publisher: AMQPConnection, consumer: AMQPConnection, metrics: PoolMetrics, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.publisher = publisher
        self.consumer = consumer
        self.topology = configuration.topology
        self.metrics = metrics
        self.logger = logger
        let resultHistory = ResultHistoryRecorder(history: ResultHistory(redis: store.redis), logger: logger)
        self.resultHistory = resultHistory
        self.deadLetterWatch = DeadLetterWatch(
            consumer: consumer, states: store.states, topology: configuration.topology,
            parkPeriod: TimeInterval(configuration.parkSeconds), logger: logger)
        self.reconciler = Reconciler(
            directory: directory, store: store.stores, bus: JobBus(connection: publisher, topology: configuration.topology),
            configuration: configuration, metrics: metrics, logger: logger,
            jobQueues: JobQueueIdleness(
                connection: publisher, topology: configuration.topology,
                management: configuration.amqpURL.flatMap { try? RabbitManagementAPI.resolve(amqpURL: $0.raw) }))
    }

    public func run() async throws {
        try await TopologyDeclarer.declare(topology, on: publisher)
        logger.info("scheduler started", metadata: ["checkIntervalSeconds": "\(configuration.checkIntervalSeconds)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await cancelWhenGracefulShutdown { await self.reconcileLoop() } }
            group.addTask { await cancelWhenGracefulShutdown { await self.consumeResults() } }
            group.addTask { await cancelWhenGracefulShutdown { await self.resultHistory.run() } }
            group.addTask { await cancelWhenGracefulShutdown { await self.deadLetterWatch.run { self.record($0) } } }
        }
        try? await store.leader.release(token: leaderToken)
        logger.info("scheduler stopped")
    }

    /// How often the leader looks for held sessions whose lease lapsed between cycles.
    static let lapseWatchInterval = Duration.milliseconds(250)

    /// Every check interval: keep or take the leader lease; when leading, reconcile and read queue depths.
    /// Between cycles, every `lapseWatchInterval`, a lease that lapsed (a worker died) starts a cycle at once.
    func reconcileLoop() async {
        let interval = Duration.seconds(configuration.checkIntervalSeconds)
        let leaderTTL = Duration.seconds(configuration.leaderLeaseSeconds)
        let clock = ContinuousClock()
        var leading = false
        var nextCycle = clock.now
        var afterLapses = false
        while !Task.isCancelled {
            do {
                let nowLeading = try await store.leader.hold(token: leaderToken, ttl: leaderTTL)
                if nowLeading != leading {
                    logger.info(nowLeading ? "this scheduler leads the reconcile loop" : "another scheduler leads the reconcile loop")
                    leading = nowLeading
                    metrics.scheduler.isLeader(leading)
                    if leading { nextCycle = clock.now }
                }
                if leading, clock.now < nextCycle, try await reconciler.lapsesSinceLastCycle() > 0 {
                    logger.notice("held sessions' leases lapsed since the last cycle; reconciling now")
                    afterLapses = true
                }
                if leading, afterLapses || clock.now >= nextCycle {
                    // A cycle after lapses plans from a list of enabled endpoints up to an interval old, so it
                    // leaves the regular cycle, which reads Postgres, where it was.
                    if !afterLapses { nextCycle = clock.now + interval }
                    defer { afterLapses = false }
                    let outcome = try await reconciler.reconcile(afterLapses: afterLapses)
                    if !outcome.deferred.isEmpty {
                        nextCycle = min(nextCycle, clock.now + .milliseconds(Int64(reconciler.vanishGracePeriod * 1000) + 100))
                    }
                    await recordQueueDepths()
                }
            } catch {
                logger.warning("reconcile cycle failed; retrying next interval", metadata: ["error": "\(error)"])
                nextCycle = clock.now + min(interval, .seconds(5))
            }
            let wake = min(nextCycle, clock.now + leaderTTL / 3, clock.now + Self.lapseWatchInterval)
            try? await Task.sleep(until: wake, clock: clock)
        }
    }

    /// Ready messages of every queue, as gauges.
    func recordQueueDepths() async {
        for name in topology.queueNames {
            if let state = try? await publisher.inspectQueue(name) {
                metrics.scheduler.queueDepth(queue: name, messages: Int(state.messageCount))
            }
        }
    }

    /// Consumes the results queue: logs each result with the original's messages and counts it.
    func consumeResults() async {
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let results = try await consumer.consume(queue: topology.resultsQueue)
                backoff.reset()
                for await delivery in results {
                    record(delivery.body)
                    _ = try? await consumer.ack(delivery)
                }
            } catch {
                let delay = backoff.next()
                logger.warning("results consumer failed, retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    func record(_ body: [UInt8]) {
        guard let result = try? JobResult.decode(Data(body)) else {
            logger.warning("dropped a results message that is not a valid result")
            return
        }
        record(result)
    }

    /// Logs and counts one result, and keeps it in the result history.
    func record(_ result: JobResult) {
        metrics.scheduler.resultReceived(outcome: result.outcome.rawValue)
        resultHistory.add(result)
        metrics.scheduler.successRatio(tally.add(result.outcome))
        switch result.outcome {
        case .recovered:
            logger.info("Successfully recovered connection for server \(result.endpointId)", metadata: ["worker": "\(result.instanceId)", "attempt": "\(result.attempt)", "ms": "\(result.durationMs)"])
        case .skipped:
            logger.info("Failed to recover connection for server \(result.endpointId) - may be handled by another instance", metadata: ["worker": "\(result.instanceId)"])
        case .retrying:
            logger.warning("recovery of server \(result.endpointId) failed, retrying", metadata: ["attempt": "\(result.attempt)", "error": "\(result.error?.message ?? "")"])
        case .dead:
            logger.error("recovery of server \(result.endpointId) dead-lettered", metadata: ["attempt": "\(result.attempt)", "error": "\(result.error?.message ?? "")"])
        case .stopped:
            logger.info("server \(result.endpointId) is disabled or deleted: job stopped")
        }
    }
}

/// Running counts of results, for the success ratio.
final class ResultTally: Sendable {
    private let counts = Mutex<(recovered: Int, failed: Int)>((0, 0))

    /// Adds an outcome; returns recovered / (recovered + retrying + dead).
    func add(_ outcome: JobOutcome) -> Double {
        counts.withLock { counts in
            switch outcome {
            case .recovered: counts.recovered += 1
            case .retrying, .dead: counts.failed += 1
            case .skipped, .stopped: break
            }
            let total = counts.recovered + counts.failed
            return total == 0 ? 1 : Double(counts.recovered) / Double(total)
        }
    }
}

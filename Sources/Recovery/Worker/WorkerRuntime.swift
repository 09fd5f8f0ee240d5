import AMQPClient
import ClientSupport
import Foundation
import Logging
import MCP
import RecoveryCore
import ServiceLifecycle
import Synchronization
import Transport

/// `worker run`: consumes recovery jobs up to its capacity, holds the sessions it opens (leases renewed
/// and heartbeats written in batches), obeys stops on its control route, and on graceful shutdown hands
/// every session off to the rest of the pool.
public final class WorkerRuntime: Sendable {
    public struct Dependencies: Sendable {
        /// Lease renewals, heartbeats and releases: a connection of their own, so that a renewal never
        /// waits behind job traffic.
        public var store: PoolStores
        public var directory: any EndpointDirectory
        /// The stores jobs use, in turn (one Redis connection each); `[store]` when none are given.
        public var jobStores: [PoolStores]
        /// The directories jobs use, in turn (one Postgres connection each); `[directory]` when none are given.
        public var jobDirectories: [any EndpointDirectory]
        /// Publishing: a `JobBus` on a connection of its own.
        public var publisher: any WorkerBus
        /// Consuming connection (jobs and control).
        public var consumer: any WorkerInbox
        public var host: any SessionOpener
        public var bridge: any ToolCallBridge

        public init(
            store: PoolStores, directory: any EndpointDirectory, jobStores: [PoolStores] = [],
            jobDirectories: [any EndpointDirectory] = [], publisher: any WorkerBus, consumer: any WorkerInbox,
            host: any SessionOpener, bridge: any ToolCallBridge
        ) {
            self.store = store
            self.directory = directory
            self.jobStores = jobStores.isEmpty ? [store] : jobStores
            self.jobDirectories = jobDirectories.isEmpty ? [directory] : jobDirectories
            self.publisher = publisher
            self.consumer = consumer
            self.host = host
            self.bridge = bridge
        }
    }

    let configuration: PoolConfiguration
    public let instanceId: String
    let dependencies: Dependencies
    let topology: Topology
    let retryPolicy: RetryPolicy
    var bus: any WorkerBus { dependencies.publisher }
    let keeper: SessionKeeper
    let sessionOptions: SessionOptions
    let metrics: PoolMetrics
    let logger: Logger
    let startedAt = Date()
    /// Where this worker serves its metrics, kept in its worker record.
    let metricsPort: Int?
    let shuttingDown = Atomic<Bool>(false)
    /// False once Redis did not answer a job in time; the job consumer pauses until it answers again.
    let redisReachable = Atomic<Bool>(true)
    /// Set while renewals are confirmed so late that new jobs wait (`RenewalPressure`).
    let sheddingJobs = Atomic<Bool>(false)
    /// The jobs queue's consumer while it runs: cancelled the moment Redis stops answering (no further
    /// delivery comes to a worker that could only give it back) or the renewals fall behind.
    let jobConsumer = Mutex<AMQPConsumer?>(nil)
    /// Session endings in progress (`endSession`), which the shutdown waits for.
    let sessionEndings = InFlightCounter()

    let nextJobConnection = Atomic<Int>(0)
    /// The Redis server's clock as measured from here; heartbeats are written on it.
    let serverClock = Mutex(ServerClockOffset())

    /// Now, on the Redis server's clock (this host's until a first measurement).
    func serverNow() -> Date { serverClock.withLock { $0.serverTime(at: Date()) } }

    /// Measures the Redis server's clock once; a failure keeps the last measurement.
    func measureServerClock() async {
        let sentAt = Date()
        guard let time = try? await store.leases.serverTime() else { return }
        let receivedAt = Date()
        serverClock.withLock { $0.record(serverTime: time, sentAt: sentAt, receivedAt: receivedAt) }
    }

    var store: PoolStores { dependencies.store }
    var directory: any EndpointDirectory { dependencies.directory }

    /// The Redis store and Postgres directory for one job, taken in turn from the job connections.
    func jobConnections() -> (store: PoolStores, directory: any EndpointDirectory) {
        let index = nextJobConnection.wrappingAdd(1, ordering: .relaxed).oldValue
        let stores = dependencies.jobStores, directories = dependencies.jobDirectories
        return (stores[index % stores.count], directories[index % directories.count])
    }
    var leaseTTL: Duration { leaseTiming.ttl }
    let leaseTiming: LeaseTiming
    /// Whose live sessions the lease acquire refuses to connect over: the heartbeat timeout the
    /// original's monitor uses.
    var foreignHeartbeatTimeout: Duration { .seconds(configuration.heartbeatTimeoutSeconds) }

    public init(
        configuration: PoolConfiguration, instanceId: String, dependencies: Dependencies, sessionOptions: SessionOptions, metrics: PoolMetrics,
        logger: Logger, metricsPort: Int? = nil
    ) {
        self.configuration = configuration
        self.metricsPort = metricsPort
        self.instanceId = instanceId
        self.dependencies = dependencies
        self.topology = configuration.topology
        self.retryPolicy = configuration.retryPolicy
        self.leaseTiming = configuration.leaseTiming
        self.keeper = SessionKeeper(
            capacity: configuration.maxSessions,
            renewalSlots: RenewalSlots.count(
                interval: configuration.leaseTiming.renewalInterval,
                minimumTick: Self.minimumRenewalTick, maximum: Self.maximumRenewalSlots),
            leaseTiming: configuration.leaseTiming)
        self.sessionOptions = sessionOptions
        self.metrics = metrics
        self.logger = logger
    }

    /// Sessions held now.
    public var sessionCount: Int {
        get async { await keeper.count }
    }

    /// Declares the topology and this worker's control queue and measures the Redis clock, then returns
    /// the worker's services in start order (see `WorkerServices`).
    public func prepareServices() async throws -> [any Service] {
        try await bus.declareTopology()
        let controlQueue = try await dependencies.consumer.declareControlQueue(topology, instanceId: instanceId)
        await measureServerClock()
        logger.info("worker started", metadata: ["instance": "\(instanceId)", "capacity": "\(configuration.maxSessions)"])
        return WorkerServices.ordered(self, controlQueue: controlQueue)
    }

    /// Once the consumers have stopped: hands every session off, then waits (within the shutdown grace)
    /// for the endings of sessions lost just before, which may still be publishing their jobs.
    func handOffForShutdown() async {
        shuttingDown.store(true, ordering: .relaxed)
        let shutdownStarted = ContinuousClock.now
        await handOffAll()
        let grace = Duration.seconds(configuration.shutdownGraceSeconds)
        if !(await sessionEndings.waitUntilIdle(within: max(.seconds(1), grace - (ContinuousClock.now - shutdownStarted)))) {
            logger.warning("\(sessionEndings.current) session endings were still in progress at the end of the shutdown grace")
        }
    }

    /// Renewals, heartbeats and self-fencing, until cancelled. Renewals and fencing run above the jobs'
    /// priority: while hundreds of connects queue for the cooperative threads, a renewal that waits its
    /// turn behind them lets leases run out and the worker fence sessions that were healthy.
    /// Cancelled last in a shutdown, once every session is closed, so a renewal or heartbeat still waiting
    /// on a silent Redis is left behind rather than awaited for its command timeout.
    func keepLeases() async {
        await untilCancelled {
            await withTaskGroup(of: Void.self) { keeping in
                keeping.addTask(priority: .high) { await self.maintainSessions() }
                keeping.addTask(priority: .high) { await self.fenceExpiredLeases() }
                keeping.addTask { await self.beatHeartbeats() }
            }
        }
    }

    /// How long the last step of a shutdown waits for Redis: a healthy one answers in milliseconds, and a
    /// record not removed lapses with its liveness key.
    static let deregisterTimeout = Duration.seconds(1)

    /// The last step of a shutdown: the worker's record goes.
    func deregister() async {
        let removed = await withDeadline(Self.deregisterTimeout, onTimeout: { false }, onCancel: { false }) { [store, instanceId] in
            (try? await store.workers.remove(instanceId: instanceId)) != nil
        }
        if !removed {
            logger.notice("Redis did not answer the removal of this worker's record; it lapses on its own", metadata: ["timeout": "\(Self.deregisterTimeout)"])
        }
        logger.info("worker stopped", metadata: ["instance": "\(instanceId)"])
    }

    // MARK: consuming jobs

    /// Consumes the jobs queue while there is free capacity, with a prefetch no larger than it.
    func consumeJobs() async {
        var backoff = Backoff()
        while !Task.isCancelled {
            let free = await keeper.free
            if free == 0 || sheddingJobs.load(ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(250))
                continue
            }
            if !redisReachable.load(ordering: .relaxed) {
                if !(await redisAnswers(jobConnections().store)) {
                    try? await Task.sleep(for: .milliseconds(250))
                    continue
                }
                logger.notice("Redis answers again: taking jobs")
            }
            do {
                try await dependencies.consumer.setPrefetch(UInt16(min(configuration.prefetch, free, Int(UInt16.max))))
                let consumer = try await dependencies.consumer.startConsuming(queue: topology.jobsQueue, exclusive: false)
                jobConsumer.withLock { $0 = consumer }
                backoff.reset()
                await withTaskGroup(of: Void.self) { group in
                    var deliveries = consumer.makeAsyncIterator()
                    while let delivery = await deliveries.next() {
                        group.addTask { await self.handle(delivery) }
                        if await keeper.free == 0 || sheddingJobs.load(ordering: .relaxed) { break }
                        if !redisReachable.load(ordering: .relaxed) {
                            logger.warning("Redis does not answer: not taking jobs until it does")
                            break
                        }
                    }
                    jobConsumer.withLock { $0 = nil }
                    try? await dependencies.consumer.cancel(consumer)
                    // Deliveries already in the prefetch window are handled too (given back when they
                    // cannot start), never left unacknowledged behind a consumer that is gone.
                    while let delivery = await deliveries.next() {
                        group.addTask { await self.handle(delivery) }
                    }
                    await group.waitForAll()
                }
            } catch {
                let delay = backoff.next()
                logger.warning("job consumer failed, retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Consumes this worker's control queue: stops for endpoints that were disabled or deleted.
    func consumeControl(queue: String) async {
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let consumer = try await dependencies.consumer.startConsuming(queue: queue, exclusive: true)
                backoff.reset()
                for await delivery in consumer {
                    _ = try? await dependencies.consumer.ack(delivery)
                    guard let message = try? ControlMessage.decode(Data(delivery.body)) else {
                        logger.warning("ignored a control message that is not valid", metadata: ["queue": "\(queue)"])
                        continue
                    }
                    logger.info("stop requested", metadata: ["server": "\(message.endpointId)", "reason": "\(message.reason.rawValue)"])
                    await endSession(message.endpointId, .stopped)
                }
            } catch {
                let delay = backoff.next()
                logger.warning("control consumer failed, retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    // MARK: maintenance

    static let minimumRenewalTick = Duration.milliseconds(100)
    static let maximumRenewalSlots = 8

    /// Renews the leases, one renewal slot per tick (every lease once per renewal interval). Nothing slower
    /// shares this loop: a late renewal lets leases lapse, and a lapsed lease invites a duplicate (writing
    /// thousands of heartbeats took up to 0.9 s under load, so they have a loop of their own).
    func maintainSessions() async {
        let slots = await keeper.renewalSlotCount
        let tickEvery = leaseTiming.renewalInterval / slots
        let clock = ContinuousClock()
        var pressure = RenewalPressure(timing: leaseTiming, slots: slots)
        var due = clock.now
        var tick = 0
        var failures = RenewalFailureLog(every: slots)
        while !Task.isCancelled {
            if await renewLeases(tick: tick, failures: &failures) {
                // Leases were gone (Redis lost its data, or this worker stalled past its TTL): the other
                // slots' leases are gone too, or about to be. Renew them now rather than a tick apart.
                for other in 1..<slots {
                    _ = await renewLeases(tick: tick &+ other, failures: &failures)
                }
            }
            tick &+= 1
            metrics.worker.sessionsHeld(await keeper.count)
            if let change = pressure.tick(lateBy: clock.now - due) { pressureChanged(change, pressure) }
            due = max(due + tickEvery, clock.now)
            try? await Task.sleep(until: due, clock: clock)
        }
    }

    /// Stops or resumes taking jobs as the renewals fall behind or catch up. The consumer is cancelled
    /// apart from this loop, which must not wait on the broker.
    func pressureChanged(_ change: RenewalPressure.Change, _ pressure: RenewalPressure) {
        switch change {
        case .shed(let lateBy):
            sheddingJobs.store(true, ordering: .relaxed)
            logger.warning("lease renewals are confirmed late: taking no jobs until they are on time again, so held sessions do not fence", metadata: [
                "lateBy": "\(lateBy)", "shedAbove": "\(pressure.shedAbove)", "slack": "\(pressure.slack)",
            ])
            if let consumer = jobConsumer.withLock({ $0 }) {
                Task { try? await dependencies.consumer.cancel(consumer) }
            }
        case .recovered:
            sheddingJobs.store(false, ordering: .relaxed)
            logger.notice("lease renewals are on time again: taking jobs")
        }
        metrics.worker.sheddingJobs(sheddingJobs.load(ordering: .relaxed))
    }

    /// Writes every held session's heartbeat and the worker's own record, every heartbeat interval.
    func beatHeartbeats() async {
        let every = Duration.seconds(configuration.heartbeatIntervalSeconds)
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isCancelled {
            next = max(next + every, clock.now)
            await writeHeartbeats()
            try? await Task.sleep(until: next, clock: clock)
        }
    }

    /// How often the lease deadlines are checked: a session outlives its deadline by at most this.
    static let fenceCheckInterval = Duration.milliseconds(50)

    /// Closes every session whose lease was not confirmed renewed by its local deadline (SPEC §7,
    /// self-fencing). Apart from the renewals, and touching no server before the close: a renewal that
    /// hangs on an unreachable Redis must not hold the close back.
    func fenceExpiredLeases() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let expired = await keeper.takeExpiredLeases(at: clock.now)
            if !expired.isEmpty {
                let endings = expired.map { closeEnded($0, .fenced) }
                logger.warning("closed \(expired.count) sessions whose lease renewal was not confirmed in time", metadata: [
                    "servers": "\(expired.prefix(20).map(\.endpointId.rawValue).sorted().joined(separator: ","))"])
                metrics.worker.sessionsHeld(await keeper.count)
                // Their states and leases are cleaned up when Redis answers again (only while this holder
                // still has them), and their `released` jobs bring the endpoints back.
                for (held, ending) in zip(expired, endings) {
                    Task { await self.followUp(held, ending) }
                }
            }
            try? await Task.sleep(for: Self.fenceCheckInterval)
        }
    }

    /// Rebuilds the tool catalogs of held sessions every check interval, apart from lease renewal.
    func refreshCatalogsPeriodically() async {
        let every = Duration.seconds(configuration.checkIntervalSeconds)
        while !Task.isCancelled {
            try? await Task.sleep(for: every)
            await refreshCatalogs()
        }
    }

    /// Renews the leases of tick `tick`'s slot in one script. A lease found absent (Redis restarted, say)
    /// is taken again and the state rewritten; a lease someone else holds ends the session. Returns whether
    /// any lease was found absent or taken.
    @discardableResult
    func renewLeases(tick: Int, failures: inout RenewalFailureLog) async -> Bool {
        let tokens = await keeper.leaseTokens(forTick: tick)
        guard !tokens.isEmpty else { return false }
        do {
            let sentAt = ContinuousClock.now
            let lost = try await store.leases.renew(tokens, ttl: leaseTTL)
            failures.succeeded()
            await keeper.leasesConfirmed(tokens.keys.lazy.filter { !lost.contains($0) }, requestSentAt: sentAt)
            guard !lost.isEmpty else { return false }
            // Still held here (a session may have ended since the snapshot): re-take them all in one
            // pipeline, rewrite the states of those taken in another, end the others.
            var lapsed: [EndpointID: HeldSession] = [:]
            for endpointId in lost {
                if let held = await keeper.session(endpointId) { lapsed[endpointId] = held }
            }
            let retakeSentAt = ContinuousClock.now
            let (fences, replicated) = try await store.leases.reacquire(lapsed.mapValues(\.leaseToken), ttl: leaseTTL, foreignHeartbeatTimeout: foreignHeartbeatTimeout)
            if replicated {
                await keeper.leasesConfirmed(fences.keys, requestSentAt: retakeSentAt)
            } else if !fences.isEmpty {
                // A failover could still lose these takes: their sessions keep their old local deadlines, so
                // they fence themselves unless a later renewal confirms them.
                logger.warning("leases taken again but not acknowledged by Redis:AcquireReplicas replicas", metadata: ["sessions": "\(fences.count)"])
            }
            var rewrites: [(state: ConnectionState, token: String)] = []
            for endpointId in lapsed.keys.sorted() {
                guard let held = lapsed[endpointId] else { continue }
                if let fence = fences[endpointId] {
                    logger.notice("lease was gone and is taken again", metadata: ["server": "\(endpointId)", "fence": "\(fence)"])
                    // The state and every later heartbeat carry the new fence.
                    let retaken = held.retaken(fence: fence, heartbeat: HeartbeatStateTemplate(state(for: held, fence: fence, status: .connected)))
                    await keeper.replace(retaken)
                    rewrites.append((state(for: retaken, status: .connected), held.leaseToken))
                } else {
                    logger.warning("lease lost to another holder, closing the session", metadata: ["server": "\(endpointId)"])
                    await endSession(endpointId, .leaseLost)
                }
            }
            let refused = try await store.states.write(rewrites)
            for endpointId in refused.sorted() {
                logger.warning("state rewrite refused: lease not held", metadata: ["server": "\(endpointId)"])
            }
            return true
        } catch {
            if failures.failed() {
                logger.warning("renewing leases failed", metadata: ["error": "\(error)", "sessions": "\(tokens.count)"])
            }
            return false
        }
    }

    /// Writes `LastHeartbeat` of every held session and this worker's record, in one round trip each.
    func writeHeartbeats() async {
        let held = await keeper.snapshot()
        await measureServerClock()
        do {
            let now = serverNow()
            let lost = try await store.states.write(held.map {
                StateWrite(endpointId: $0.endpointId, value: $0.heartbeat.value(heartbeatAt: now), token: $0.leaseToken)
            })
            for endpointId in lost.sorted() {
                logger.warning("heartbeat refused: lease not held", metadata: ["server": "\(endpointId)"])
            }
            let record = WorkerRecord(
                instanceId: instanceId, host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier),
                startedAt: startedAt, heartbeatAt: Date(), sessions: held.count, capacity: configuration.maxSessions,
                metricsPort: metricsPort)
            try await store.workers.record(record, ttl: .seconds(configuration.heartbeatIntervalSeconds * 3))
        } catch {
            logger.warning("writing heartbeats failed", metadata: ["error": "\(error)", "sessions": "\(held.count)"])
        }
    }

    /// Rebuilds every held session's tool catalog from the tables and swaps it in where it changed, so
    /// bindings, selections and service settings reach live sessions without dropping them. The rows are
    /// read in chunks of `catalogRefreshChunk` sessions, one query per table each.
    func refreshCatalogs() async {
        let held = await keeper.snapshot()
        var start = 0
        while start < held.count, !Task.isCancelled {
            let chunk = held[start..<min(start + Self.catalogRefreshChunk, held.count)]
            start += Self.catalogRefreshChunk
            let ids = chunk.map(\.endpointId)
            let endpoints: [EndpointID: EndpointRecord]
            let rows: CatalogRowSet
            do {
                endpoints = Dictionary(try await directory.endpoints(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                rows = try await directory.catalogRows(endpointIds: ids)
            } catch {
                logger.warning("could not read the tool catalogs of \(ids.count) held sessions", metadata: ["error": "\(error)"])
                continue
            }
            for session in chunk {
                guard let endpoint = endpoints[session.endpointId] else { continue }
                let catalog = buildCatalog(endpoint, rows: rows.rows(for: endpoint.id))
                if catalog != session.mcp.catalog {
                    session.mcp.replaceCatalog(catalog)
                    logger.info("tool catalog of server \(session.endpointId) changed", metadata: ["tools": "\(catalog.tools.count)"])
                }
            }
        }
    }

    /// Sessions whose catalog rows one refresh query covers.
    static let catalogRefreshChunk = 1000

    /// The state value of a held session (under `fence`, when given, rather than its own).
    func state(for held: HeldSession, fence: Int? = nil, status: ConnectionStatus) -> ConnectionState {
        sessionState(
            endpointId: held.endpointId, endpointName: held.endpointName, address: held.address, connectedAt: held.connectedAt,
            fence: fence ?? held.fence, status: status, now: serverNow())
    }

    /// The state of a session this worker holds (the address is redacted by `ConnectionState`).
    func sessionState(endpointId: EndpointID, endpointName: String, address: String, connectedAt: Date, fence: Int, status: ConnectionStatus, now: Date) -> ConnectionState {
        ConnectionState(
            endpointId: endpointId, instanceId: instanceId, status: status, lastConnectedTime: connectedAt,
            lastDisconnectedTime: status == .connected ? nil : now, lastHeartbeat: now, reconnectAttempts: 0,
            endpointName: endpointName, webSocketEndpoint: address, owner: ConnectionState.poolOwner, fence: fence)
    }
}

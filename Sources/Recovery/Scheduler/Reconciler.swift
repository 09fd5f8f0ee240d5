import AMQPClient
import Foundation
import Logging
import RecoveryCore
import Synchronization

/// One reconcile pass: read (one query, one pipelined Redis read), plan (pure), act (stale states,
/// parks, pending markers, confirmed job publishes, stops). `scheduler check` runs the first two only.
public final class Reconciler: Sendable {
    let directory: any EndpointDirectory
    let store: PoolStores
    let bus: any SchedulerBus
    let planner: ReconcilePlanner
    let pendingTTL: Duration
    /// Tells the planner when no job waits anywhere (lost pending markers are then removed); nil never does.
    let jobQueues: (any JobQueueWatch)?
    let metrics: PoolMetrics
    let logger: Logger
    private let vanishGrace: Mutex<VanishGrace>
    private let capacityAlarm = Mutex(CapacityAlarm())
    private let reads: Mutex<ReadState>

    /// What the reconciler keeps between cycles about its Redis reads.
    struct ReadState {
        var held = HeldSessionsCache()
        var cadence: FullReadCadence
        var enabled: RecentEnabledList
        /// The Redis server's time of the last read (milliseconds); nil before the first.
        var lastRead: Int64?
    }

    public init(directory: any EndpointDirectory, store: PoolStores, bus: any SchedulerBus, configuration: PoolConfiguration, metrics: PoolMetrics, logger: Logger,
                jobQueues: (any JobQueueWatch)? = nil) {
        self.jobQueues = jobQueues
        self.directory = directory
        self.store = store
        self.bus = bus
        self.planner = ReconcilePlanner(policy: configuration.reconcilePolicy)
        self.pendingTTL = .seconds(configuration.pendingTtlSeconds)
        self.metrics = metrics
        self.logger = logger
        self.vanishGrace = Mutex(VanishGrace(grace: configuration.leaseTiming.vanishGraceSeconds))
        self.reads = Mutex(ReadState(
            cadence: FullReadCadence(every: configuration.fullReadEveryCycles),
            enabled: RecentEnabledList(maxAge: .seconds(configuration.checkIntervalSeconds))))
    }

    /// How long vanished endpoints are held back (see `VanishGrace`).
    public var vanishGracePeriod: TimeInterval { vanishGrace.withLock { $0.grace } }

    /// Reads Postgres and every endpoint's Redis keys and plans, acting on nothing.
    public func plan(now: Date = Date()) async throws -> ReconcilePlan {
        try await read(fullRead: true, now: now).plan
    }

    /// Reads Postgres and Redis (every key on a full read, otherwise what the held-sessions index does not
    /// vouch for) and plans.
    /// With `now` nil the plan is made at the Redis server's time of the read: heartbeats are written on
    /// that clock too, so no host's clock skew makes a live session look stale. With `reuseEnabled`, a
    /// list of enabled endpoints read less than a check interval ago stands in for Postgres's.
    func read(fullRead: Bool, now: Date?, reuseEnabled: Bool = false) async throws -> (plan: ReconcilePlan, observed: RedisObservation, now: Date, vanished: [QueuedJob]) {
        let readStarted = ContinuousClock.now
        let recent = reuseEnabled ? reads.withLock { $0.enabled.reusable(at: readStarted) } : nil
        // Postgres is read while the broker and Redis are.
        async let enabledRead = Self.enabledEndpoints(from: directory, unless: recent)
        // Before the markers are read: a job published after this reading has its marker set after it too.
        let jobQueuesIdle = now == nil ? await jobQueues?.isIdle() ?? false : false
        let vanished = now == nil ? try await store.arrivals.unreceived(
            slack: QueuedJob.receiptSlack, limit: Self.vanishedJobsPerCycle, expiry: pendingTTL) : []
        let enabled = try await enabledRead
        if recent == nil { reads.withLock { $0.enabled.keep(enabled, readAt: readStarted) } }
        var cache = reads.withLock { $0.held }
        let observed = try await store.reconcile.observe(enabled: enabled, cache: &cache, fullRead: fullRead)
        reads.withLock {
            $0.held = cache
            $0.lastRead = observed.serverTime
        }
        let planned = now ?? (observed.serverTime > 0 ? Date(timeIntervalSince1970: Double(observed.serverTime) / 1000) : Date())
        var input = observed.input(now: planned, jobQueuesIdle: jobQueuesIdle)
        input.vanishedJobs = Dictionary(vanished.map { ($0.endpointId, $0.jobId) }, uniquingKeysWith: { _, later in later })
        // The registry is read every cycle for the capacity; worker records only go stale over heartbeats,
        // so they are pruned on the full reads' cadence.
        let workers = try await store.workers.registry()
        if fullRead { input.workerLiveness = workers.liveness }
        var plan = planner.plan(input)
        plan.report.capacity = ClusterCapacity(liveWorkers: workers.liveWorkers, enabled: enabled.count)
        return (plan, observed, planned, vanished)
    }

    /// `recent` when there is one, otherwise the directory's enabled endpoints.
    private static func enabledEndpoints(from directory: any EndpointDirectory, unless recent: [EnabledEndpoint]?) async throws -> [EnabledEndpoint] {
        if let recent { return recent }
        return try await directory.enabledEndpoints()
    }

    /// Unreceived jobs looked at per cycle; more wait for the next.
    static let vanishedJobsPerCycle = 1_000

    /// How many held sessions' leases lapsed since the last cycle read Redis (a worker died or stalled):
    /// one small script call, for the leader to run a cycle at once rather than at the next interval.
    /// Zero before the first cycle.
    public func lapsesSinceLastCycle() async throws -> Int {
        guard let since = reads.withLock({ $0.lastRead }) else { return 0 }
        return try await store.reconcile.lapsesSince(serverTime: since).count
    }

    /// What one pass did.
    public struct CycleOutcome: Sendable {
        /// The plan's report, with `enqueued` holding the jobs actually published.
        public var report: ReconcileReport
        /// Ids held back by the vanish grace: run the next pass when it ends.
        public var deferred: [EndpointID]
    }

    /// One full pass. `afterLapses`: started early because held leases lapsed, so a recent list of
    /// enabled endpoints may stand in for Postgres's (see `RecentEnabledList`).
    @discardableResult
    public func reconcile(afterLapses: Bool = false) async throws -> CycleOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let fullRead = reads.withLock { $0.cadence.nextCycleIsFull() }
        let plan: ReconcilePlan
        let observed: RedisObservation
        let now: Date
        let vanished: [QueuedJob]
        do {
            (plan, observed, now, vanished) = try await read(fullRead: fullRead, now: nil, reuseEnabled: afterLapses)
        } catch {
            reads.withLock { $0.cadence.requireFullRead() }
            throw error
        }
        var report = plan.report

        try await store.reconcile.deleteStaleStates(plan.staleStates)
        for endpointId in plan.indexEntriesToRemove {
            try await store.reconcile.removeIndexEntry(endpointId: endpointId)
        }
        try await store.markers.unpark(endpointIds: plan.parkedToClear)
        try await store.reconcile.forgetLapsedSessions(plan.heldToForget)
        try await store.markers.clearAttempts(endpointIds: plan.attemptsToForget)
        let forgottenWorkers = try await store.workers.forget(plan.workersToForget)
        if forgottenWorkers > 0 {
            logger.info("removed \(forgottenWorkers) records of workers whose liveness key lapsed", metadata: [
                "workers": "\(plan.workersToForget.joined(separator: ","))",
            ])
        }

        for lost in plan.lostPendingMarkers {
            try await store.markers.clearPending(endpointId: lost.endpointId, ifJob: lost.jobId)
        }
        // Also the markers of vanished jobs the plan did not look at (endpoints live, opening or disabled).
        try await store.arrivals.forget(vanished)
        if !vanished.isEmpty {
            metrics.scheduler.vanishedJobs(vanished.count)
            logger.notice("\(vanished.count) jobs left the jobs queue without any worker receiving them (purged, lost, or held by a stopped worker); their endpoints are queued again",
                          metadata: ["servers": "\(vanished.prefix(20).map(\.endpointId.rawValue).joined(separator: ","))"])
        }
        if !plan.lostPendingMarkers.isEmpty {
            logger.notice("\(plan.lostPendingMarkers.count) pending markers named jobs that no queue holds any more (purged, dropped by the broker, or never published); those endpoints are queued again",
                          metadata: ["servers": "\(plan.lostPendingMarkers.prefix(20).map(\.endpointId.rawValue).joined(separator: ","))"])
        }
        let (jobs, deferred) = vanishGrace.withLock { $0.filter(plan.jobs, live: report.live, now: now) }
        if !jobs.isEmpty {
            logger.info("Found \(jobs.count) enabled servers in database but missing from Redis - attempting recovery")
        }
        if !deferred.isEmpty {
            logger.notice("\(deferred.count) servers live in the last cycle vanished from Redis; waiting for their holders to restore them")
        }
        report.enqueued = try await publish(jobs, at: now)

        for stop in plan.stops {
            let delivered = try await bus.send(control: stop.message(at: now))
            metrics.scheduler.stopSent()
            if !delivered {
                logger.warning("no worker \(stop.instanceId) to stop server \(stop.endpointId); its lease will lapse", metadata: ["server": "\(stop.endpointId)"])
            }
        }
        for orphan in plan.unmanagedOrphans {
            logger.notice("server \(orphan) is disabled but has a session held by another platform instance")
        }
        metrics.scheduler.missingEndpoints(report.missing.count + report.stale.count)
        if let capacity = report.capacity { announce(capacity, at: now) }
        metrics.scheduler.cycleDuration(clock.now - started)
        let elapsed = clock.now - started
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        // The console's overview reads it; a failed write costs only that view's freshness.
        try? await store.operatorView.recordLastCycle(CycleSummary(at: now, milliseconds: milliseconds, counts: report.counts, capacity: report.capacity))
        logger.info("reconcile cycle done", metadata: [
            "summary": "\(report.summary)", "ms": "\(milliseconds)",
            "read": "\(observed.fullRead ? "full" : "held index")", "keysRead": "\(observed.keysRead)",
        ])
        return CycleOutcome(report: report, deferred: deferred)
    }

    /// Exports the cluster's capacity and says when enabled endpoints exceed it (see `CapacityAlarm`).
    func announce(_ capacity: ClusterCapacity, at now: Date) {
        metrics.scheduler.capacity(capacity)
        switch capacityAlarm.withLock({ $0.observe(capacity, now: now) }) {
        case .raise(let capacity)?:
            logger.warning(
                "Enabled endpoints exceed the cluster's capacity: \(capacity.shortfall) of \(capacity.enabled) cannot be connected (\(capacity.slots) session slots on \(capacity.workers) workers); add workers or raise Worker:MaxSessions",
                metadata: ["capacity": "\(capacity.summary)"])
        case .clear(let capacity)?:
            logger.notice("The cluster's capacity covers the enabled endpoints again", metadata: ["capacity": "\(capacity.summary)"])
        case nil:
            break
        }
    }

    /// Sets each job's pending marker (skipping those already pending), publishes the rest in one
    /// confirmed batch, and starts their cooldown clocks. Returns the ids enqueued.
    func publish(_ planned: [PlannedJob], at now: Date) async throws -> [EndpointID] {
        guard !planned.isEmpty else { return [] }
        let candidates = planned.map { $0.job(jobId: UUID().uuidString.lowercased(), at: now) }
        let marked = try await store.markers.markPending(candidates.map { ($0.endpointId, $0.jobId) }, ttl: pendingTTL)
        let jobs = candidates.filter { marked.contains($0.endpointId) }
        let outcomes: [PublishOutcome]
        do {
            outcomes = try await bus.publish(jobs: jobs)
        } catch {
            // Nothing was published: the markers must not block these endpoints for a whole pending TTL.
            for job in jobs { try? await store.markers.clearPending(endpointId: job.endpointId, ifJob: job.jobId) }
            throw error
        }
        var enqueued: [EndpointID] = []
        var failed: [EndpointID] = []
        for (job, outcome) in zip(jobs, outcomes) {
            if outcome.isConfirmed {
                enqueued.append(job.endpointId)
                metrics.jobEnqueued(reason: job.reason.rawValue)
            } else {
                failed.append(job.endpointId)
                logger.warning("job for server \(job.endpointId) not confirmed by the broker: \(outcome)")
            }
        }
        for job in jobs where failed.contains(job.endpointId) {
            try await store.markers.clearPending(endpointId: job.endpointId, ifJob: job.jobId)
        }
        try await store.markers.recordAttempts(endpointIds: enqueued, at: now)
        return enqueued
    }
}

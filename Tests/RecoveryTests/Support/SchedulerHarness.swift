import AMQPClient
import Foundation
import Logging
import MCP
import RecoveryCore
import Synchronization
@testable import Recovery

/// The endpoints table in memory: the rows the scheduler reads (`enabledEndpoints`), and what a worker
/// would read and write of them.
final class InMemoryEndpointDirectory: EndpointDirectory {
    private let rows = Mutex<[EndpointID: EndpointRecord]>([:])
    private let enabledReadCount = Atomic(0)

    /// How many times the enabled endpoints were read.
    var enabledReads: Int { enabledReadCount.load(ordering: .relaxed) }

    func put(_ row: EndpointRecord) { rows.withLock { $0[row.id] = row } }
    func update(_ id: EndpointID, _ change: (inout EndpointRecord) -> Void) { rows.withLock { if var row = $0[id] { change(&row); $0[id] = row } } }

    func enabledEndpoints() async throws -> [EnabledEndpoint] {
        enabledReadCount.add(1, ordering: .relaxed)
        return rows.withLock { $0.values.filter(\.isEnabled).sorted { $0.id < $1.id }.map { EnabledEndpoint(id: $0.id, name: $0.name, updatedAt: $0.updatedAt) } }
    }
    func endpoint(id: EndpointID) async throws -> EndpointRecord? { rows.withLock { $0[id] } }
    func endpoints(ids: [EndpointID]) async throws -> [EndpointRecord] { rows.withLock { rows in ids.compactMap { rows[$0] } } }
    func statusRows() async throws -> [EndpointStatusRow] {
        rows.withLock { $0.values.map { EndpointStatusRow(id: $0.id, name: $0.name, isEnabled: $0.isEnabled, isConnected: false, lastConnectedAt: nil, lastDisconnectedAt: nil) } }
    }
    /// No tools are bound in memory.
    func catalogRows(endpointId: EndpointID) async throws -> (bindings: [ServiceBindingRow], configs: [ServiceConfigRow], tools: [ToolRow]) { ([], [], []) }
    func catalogRows(endpointIds: [EndpointID]) async throws -> CatalogRowSet { CatalogRowSet(bindings: [], configs: [], tools: []) }
    func markConnected(id: EndpointID, at: Date) async throws {}
    func markDisconnected(id: EndpointID, at: Date, sessionConnectedAt: Date) async throws {}
    func migrate() async throws {}
}

/// A `SchedulerBus` that keeps what it was given, answering each publish with `outcome`, and a stop as
/// delivered when its worker is in `listening`.
final class RecordingSchedulerBus: SchedulerBus {
    private struct Log {
        var jobs: [RecoveryJob] = []
        var stops: [ControlMessage] = []
        var outcome = PublishOutcome.confirmed
        var listening: Set<String> = []
    }
    private let log = Mutex(Log())

    var jobs: [RecoveryJob] { log.withLock { $0.jobs } }
    var stops: [ControlMessage] { log.withLock { $0.stops } }
    func answer(_ outcome: PublishOutcome) { log.withLock { $0.outcome = outcome } }
    func listen(_ instanceId: String) { log.withLock { _ = $0.listening.insert(instanceId) } }

    func publish(jobs: [RecoveryJob]) async throws -> [PublishOutcome] {
        log.withLock { log in
            if log.outcome == .confirmed { log.jobs += jobs }
            return jobs.map { _ in log.outcome }
        }
    }

    func send(control: ControlMessage) async throws -> Bool {
        log.withLock { log in
            log.stops.append(control)
            return log.listening.contains(control.instanceId)
        }
    }
}

/// Whether the job queues are idle, as a test sets it.
final class SwitchedQueueWatch: JobQueueWatch {
    private let idle = Atomic<Bool>(false)
    func set(idle value: Bool) { idle.store(value, ordering: .relaxed) }
    func isIdle() async -> Bool { idle.load(ordering: .relaxed) }
}

/// One scheduler's reconciler over in-memory stores, an in-memory table and a recording bus, on a clock
/// the test moves: the scheduler's rules without a server.
struct SchedulerHarness {
    let clock = ManualClock()
    let pool: InMemoryPoolState
    let directory = InMemoryEndpointDirectory()
    let bus = RecordingSchedulerBus()
    let queues = SwitchedQueueWatch()
    let reconciler: Reconciler
    let configuration: PoolConfiguration

    init(settings: [String: String] = [:]) throws {
        let clock = clock
        pool = InMemoryPoolState(keyspace: InMemoryKeyspace(clock: { clock.now() }))
        let defaults = ["ConnectionMonitor__ReconnectCooldownSeconds": "60", "Recovery__LeaseTtlSeconds": "15"]
        configuration = try ConfigurationLoader.load(fileContents: nil, environment: defaults.merging(settings) { $1 }, overrides: [])
        var logger = Logger(label: "scheduler-rules")
        logger.logLevel = .critical
        reconciler = Reconciler(
            directory: directory, store: pool.stores, bus: bus, configuration: configuration, metrics: PoolMetrics(), logger: logger,
            jobQueues: queues)
    }

    var now: Date { clock.now() }

    func enable(_ id: EndpointID, updatedAt: Date? = nil) {
        directory.put(EndpointRecord(id: id, name: "name-\(id)", address: "wss://xiaozhi.example/mcp/?token=t-\(id)", userId: "u", isEnabled: true, updatedAt: updatedAt))
    }

    /// A worker's session: its lease taken and its Connected state written under it, as a job does.
    func holdSession(_ id: EndpointID, by instance: String = "worker-1", ttl: Duration = .seconds(15), heartbeat: Date? = nil) async throws {
        let token = "token-\(instance)-\(id)"
        _ = try await pool.leases.acquire(endpointId: id, token: token, ttl: ttl)
        let state = ConnectionState(
            endpointId: id, instanceId: instance, status: .connected, lastConnectedTime: now, lastHeartbeat: heartbeat ?? now,
            endpointName: "name-\(id)", webSocketEndpoint: "wss://xiaozhi.example/mcp/?token=t-\(id)")
        guard try await pool.states.write(state, token: token) else { throw HarnessError("state of \(id) not written") }
    }

    /// A worker's record, with `capacity` session slots.
    func registerWorker(_ instance: String, capacity: Int, sessions: Int = 0) async throws {
        try await pool.workers.record(
            WorkerRecord(instanceId: instance, host: "h", pid: 1, startedAt: now, heartbeatAt: now, sessions: sessions, capacity: capacity),
            ttl: .seconds(60))
    }

    /// One reconcile pass.
    @discardableResult
    func cycle() async throws -> Reconciler.CycleOutcome { try await reconciler.reconcile() }

    /// The pending marker of `id` (the job id it names), read as the scheduler reads it.
    func marker(_ id: EndpointID) async throws -> String? {
        var cache = HeldSessionsCache()
        return try await pool.reconcile.observe(enabled: [EnabledEndpoint(id: id, name: id.rawValue, updatedAt: nil)], cache: &cache, fullRead: true).pending[id]
    }

    func jobs(for id: EndpointID) -> [RecoveryJob] { bus.jobs.filter { $0.endpointId == id } }
}

import AMQPClient
import Foundation
import MCP
import Recovery
import RecoveryCore
import RedisClient

/// The console's reads and operations over the pool's real servers, through the CLI's own readers.
/// Dead-letter operations take the whole dead queue on one channel, so they run one at a time.
public final class LiveConsoleData: ConsoleDataSource {
    let configuration: PoolConfiguration
    let directory: any EndpointDirectory
    let store: RedisPoolState
    let history: ResultHistory
    let holder: AMQPConnection
    let bus: JobBus
    let management: RabbitManagementAPI?
    private let deadLane = ConsoleLane()

    /// `holder` fetches and holds queue messages; `publisher` publishes retried jobs.
    public init(configuration: PoolConfiguration, directory: any EndpointDirectory, redis: RedisClient,
                holder: AMQPConnection, publisher: AMQPConnection) {
        self.configuration = configuration
        self.directory = directory
        self.store = RedisPoolState(redis: redis)
        self.history = ResultHistory(redis: redis)
        self.holder = holder
        self.bus = JobBus(connection: publisher, topology: configuration.topology)
        self.management = configuration.amqpURL.flatMap { try? RabbitManagementAPI.resolve(amqpURL: $0.raw) }
    }

    public func endpoints() async throws -> EndpointStatusReport {
        try await EndpointStatusReader(directory: directory, store: store, parkPeriod: TimeInterval(configuration.parkSeconds)).read()
    }

    public func lastResults(endpointIds: [EndpointID]) async throws -> [EndpointID: RecordedResult] {
        try await history.latest(endpointIds: endpointIds)
    }

    public func endpoint(id: EndpointID) async throws -> EndpointDetail? {
        guard let record = try await directory.endpoint(id: id) else { return nil }
        let row = EndpointStatusRow(id: record.id, name: record.name, isEnabled: record.isEnabled, isConnected: false, lastConnectedAt: nil, lastDisconnectedAt: nil)
        let readings = try await store.operatorView.statusReadings(endpointIds: [id])
        let status = EndpointStatus.combine(rows: [row], readings: readings, parkPeriod: TimeInterval(configuration.parkSeconds))[0]
        let catalog = try await directory.catalogRows(endpointId: id)
        let services = Dictionary(catalog.configs.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        var tools: [BoundTool] = []
        for binding in catalog.bindings where binding.isActive {
            let selected = Self.selectedNames(binding.selectedToolNames)
            for tool in catalog.tools where tool.mcpServiceConfigId == binding.mcpServiceConfigId && selected.contains(tool.name) {
                tools.append(BoundTool(service: services[tool.mcpServiceConfigId] ?? tool.mcpServiceConfigId, name: tool.name, description: tool.description))
            }
        }
        return EndpointDetail(
            status: status, userId: record.userId, updatedAt: record.updatedAt,
            results: try await history.recent(endpointId: id), tools: tools.sorted { ($0.service, $0.name) < ($1.service, $1.name) })
    }

    /// The names a binding selects (a JSON array of strings as stored).
    static func selectedNames(_ stored: String?) -> Set<String> {
        guard let stored, let names = (try? JSONSerialization.jsonObject(with: Data(stored.utf8))) as? [Any] else { return [] }
        return Set(names.compactMap { $0 as? String })
    }

    public func workers() async throws -> WorkerListing {
        WorkerListing(registry: try await store.workers.registry(), takenAt: Date())
    }

    public func queues() async throws -> QueueReport {
        try await QueueInspector(
            connection: holder, topology: configuration.topology, management: management, readsOldestDeadLetter: false
        ).inspect()
    }

    public func deadLetters() async throws -> [DeadLetter] {
        try await deadLane.run { try await self.deadLetterQueue().list() }
    }

    public func outcomesPerMinute() async throws -> [MinuteOutcomes] {
        try await history.outcomesPerMinute()
    }

    public func lastCycle() async throws -> CycleSummary? {
        try await store.operatorView.lastCycle()
    }

    public func retry(_ selection: DeadLetterSelection) async throws -> DeadLetterRetryReport {
        try await deadLane.run { try await self.deadLetterQueue().retry(selection) }
    }

    public func purge(_ selection: DeadLetterSelection) async throws -> DeadLetterPurgeReport {
        try await deadLane.run { try await self.deadLetterQueue().purge(selection) }
    }

    private func deadLetterQueue() -> DeadLetterQueue {
        DeadLetterQueue(connection: holder, bus: bus, store: store, pendingTtl: .seconds(configuration.pendingTtlSeconds))
    }
}

/// Runs operations one after another.
actor ConsoleLane {
    private var tail: Task<Void, Never>?

    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tail
        let task = Task<T, Error> {
            await previous?.value
            return try await operation()
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }
}

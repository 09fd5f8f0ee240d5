import Logging
import Synchronization

/// A fixed set of `PostgresClient`s (one connection and thread each) used in turn, for callers with many
/// concurrent tasks. A transaction runs whole on one client.
public final class PostgresClientPool: Sendable {
    public let clients: [PostgresClient]
    private let nextIndex = Atomic<Int>(0)

    /// Creates `size` clients that connect on their first call.
    public init(configuration: PostgresConfiguration, size: Int, logger: Logger = Logger(label: "postgres")) {
        precondition(size > 0, "a Postgres client pool needs at least one client")
        clients = (0..<size).map { _ in PostgresClient(configuration: configuration, logger: logger) }
    }

    /// The client for the next call (round-robin).
    public func next() -> PostgresClient {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return clients[index % clients.count]
    }

    /// `PostgresClient.query` on the next client.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresResult {
        try await next().query(sql, parameters)
    }

    /// `PostgresClient.execute` on the next client.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> Int {
        try await next().execute(sql, parameters)
    }

    /// `PostgresClient.transaction` on the next client.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        try await next().transaction(body)
    }

    /// Closes every client.
    public func close() async {
        for client in clients {
            await client.close()
        }
    }
}

import ClientSupport
import Logging

/// An async Postgres client over one libpq connection. Every blocking libpq call runs on the client's
/// own thread, one at a time, so awaiting callers never block Swift's cooperative pool. Statements are
/// parameterized only; after a lost connection the next call reconnects (with backoff after failures).
public final class PostgresClient: Sendable {
    public let configuration: PostgresConfiguration
    private let connection: PostgresConnection
    private let thread: ConnectionThread

    /// Creates a client that connects on its first call; connection losses and recoveries go to `logger`.
    public init(configuration: PostgresConfiguration, logger: Logger = Logger(label: "postgres")) {
        self.configuration = configuration
        self.connection = PostgresConnection(configuration: configuration, logger: logger)
        self.thread = ConnectionThread(name: "postgres \(configuration.serverDescription)")
    }

    /// Parses `url` (e.g. `DATABASE_URL`) and connects at once, so a bad URL, password or port fails here.
    public static func connect(url: String, statementTimeout: Duration? = nil, logger: Logger = Logger(label: "postgres")) async throws -> PostgresClient {
        try await connect(configuration: PostgresConfiguration(url: url, statementTimeout: statementTimeout), logger: logger)
    }

    /// Connects at once, so a bad password or port fails here.
    public static func connect(configuration: PostgresConfiguration, logger: Logger = Logger(label: "postgres")) async throws -> PostgresClient {
        let client = PostgresClient(configuration: configuration, logger: logger)
        try await client.perform { connection in _ = try connection.connectIfNeeded() }
        return client
    }

    deinit {
        let connection = self.connection
        thread.submit { connection.close() }
        thread.finish()
    }

    /// Runs one statement with parameters `$1`, `$2`... bound to `parameters`, and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresResult {
        try await perform { connection in try connection.query(sql, parameters) }
    }

    /// Runs one statement and returns how many rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> Int {
        try await query(sql, parameters).affectedRows ?? 0
    }

    /// Runs `body` inside `BEGIN`/`COMMIT` on the connection's thread; a throw rolls back and is rethrown.
    /// The body must only do database work through the transaction it is given.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        try await perform { connection in
            _ = try connection.query("BEGIN", [])
            do {
                let value = try body(PostgresTransaction(connection: connection))
                _ = try connection.query("COMMIT", [])
                return value
            } catch {
                if connection.isInTransaction {
                    _ = try? connection.query("ROLLBACK", [])
                }
                throw error
            }
        }
    }

    /// Closes the connection; later calls throw a `closed` error.
    public func close() async {
        let connection = self.connection
        _ = try? await thread.run(closedError: Self.closedError(connection)) { connection.close() }
    }

    private func perform<T: Sendable>(_ job: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let connection = self.connection
        return try await thread.run(closedError: Self.closedError(connection)) { try job(connection) }
    }

    private static func closedError(_ connection: PostgresConnection) -> PostgresError {
        PostgresError(kind: .closed, server: connection.server, message: "closed")
    }
}

/// The statements of one transaction, run synchronously on the connection's thread.
public struct PostgresTransaction {
    let connection: PostgresConnection

    /// Runs one parameterized statement inside the transaction.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresResult {
        try connection.query(sql, parameters)
    }

    /// Runs one statement inside the transaction and returns how many rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> Int {
        try connection.query(sql, parameters).affectedRows ?? 0
    }
}

import PostgresClient
import RedisClient

/// A job's Redis and Postgres calls go to connections that may have sat idle through a server restart:
/// the first call on such a connection fails with a connection loss, and that failure makes the next
/// call reconnect. Those calls are therefore made once more, at once, on a connection loss. Each of them
/// is idempotent (reads, the state commit, the settlement, the row mark) or fails safe: a lease taken by
/// a first attempt whose reply was lost is refused to the second, which ends the job as skipped, and the
/// lease lapses by itself.
enum StaleConnectionRetry {
    /// Whether `error` is a lost connection (as opposed to a refused command or a server that is down).
    static func isConnectionLoss(_ error: any Error) -> Bool {
        if case .connectionLost? = error as? RedisError { return true }
        if let error = error as? PostgresError, error.kind == .connectionLost { return true }
        return false
    }

    /// `body`, run a second time if its first run lost its connection.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch where isConnectionLoss(error) {
            return try await body()
        }
    }
}

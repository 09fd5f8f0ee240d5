import Logging
import Synchronization

/// A fixed set of `RedisClient`s (one connection each, all driven by the Redis event-loop thread) used in
/// turn, for callers with many concurrent tasks. Each call goes to one client, so a pipeline or script
/// stays on one connection.
public final class RedisClientPool: Sendable {
    public let clients: [RedisClient]
    private let nextIndex = Atomic<Int>(0)

    /// Creates `size` clients that connect on their first call.
    public init(configuration: RedisConfiguration, size: Int, logger: Logger = Logger(label: "redis")) {
        precondition(size > 0, "a Redis client pool needs at least one client")
        clients = (0..<size).map { _ in RedisClient(configuration: configuration, logger: logger) }
    }

    /// The client for the next call (round-robin).
    public func next() -> RedisClient {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return clients[index % clients.count]
    }

    /// `RedisClient.send` on the next client.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await next().send(command)
    }

    /// `RedisClient.send` on the next client.
    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgumentConvertible...) async throws -> RedisReply {
        try await next().send(RedisCommand(name, arguments: arguments))
    }

    /// `RedisClient.pipeline` on the next client.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await next().pipeline(commands)
    }

    /// `RedisClient.evaluate` on the next client.
    @discardableResult
    public func evaluate(
        _ script: RedisScript,
        keys: [any RedisArgumentConvertible] = [],
        arguments: [any RedisArgumentConvertible] = []
    ) async throws -> RedisReply {
        try await next().evaluate(script, keys: keys, arguments: arguments)
    }

    /// Closes every client.
    public func close() async {
        for client in clients {
            await client.close()
        }
    }
}

import AMQPClient
import RecoveryCore

/// Declares the pool's RabbitMQ topology (SPEC §6) idempotently, from the pure `Topology` description.
public enum TopologyDeclarer {
    /// Declares every exchange, durable queue and binding on `connection` (replayed by it after reconnects).
    public static func declare(_ topology: Topology, on connection: AMQPConnection) async throws {
        for exchange in topology.exchanges {
            try await connection.declare(ExchangeDeclaration(name: exchange.name, type: exchange.kind.rawValue, durable: exchange.durable))
        }
        for queue in topology.queues {
            _ = try await connection.declare(declaration(queue))
        }
        for binding in topology.bindings {
            try await connection.bind(QueueBinding(queue: binding.queue, exchange: binding.exchange, routingKey: binding.routingKey))
        }
    }

    /// Declares and binds one worker's control queue.
    public static func declareControlQueue(_ topology: Topology, instanceId: String, on connection: AMQPConnection) async throws -> String {
        let queue = try topology.controlQueue(instanceId: instanceId)
        let binding = try topology.controlBinding(instanceId: instanceId)
        _ = try await connection.declare(declaration(queue))
        try await connection.bind(QueueBinding(queue: binding.queue, exchange: binding.exchange, routingKey: binding.routingKey))
        return queue.name
    }

    static func declaration(_ spec: QueueSpec) -> QueueDeclaration {
        var arguments: AMQPTable = [:]
        for argument in spec.arguments {
            switch argument.value {
            case .string(let value): arguments[argument.name] = .string(value)
            case .int(let value): arguments[argument.name] = .int64(Int64(value))
            }
        }
        return QueueDeclaration(name: spec.name, durable: spec.durable, exclusive: spec.exclusive, autoDelete: spec.autoDelete, arguments: arguments)
    }
}

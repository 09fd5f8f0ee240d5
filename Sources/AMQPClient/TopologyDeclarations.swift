/// An exchange declaration, replayed after every reconnect.
public struct ExchangeDeclaration: Sendable, Equatable {
    public var name: String
    /// `direct`, `fanout`, `topic` or `headers`.
    public var type: String
    public var durable: Bool
    public var autoDelete: Bool
    public var isInternal: Bool
    public var arguments: AMQPTable

    public init(
        name: String, type: String = "direct", durable: Bool = true, autoDelete: Bool = false,
        isInternal: Bool = false, arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.type = type
        self.durable = durable
        self.autoDelete = autoDelete
        self.isInternal = isInternal
        self.arguments = arguments
    }
}

/// A queue declaration, replayed after every reconnect.
public struct QueueDeclaration: Sendable, Equatable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    /// `x-queue-type`, `x-delivery-limit`, `x-dead-letter-exchange` and so on; see the helpers below.
    public var arguments: AMQPTable

    public init(
        name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }

    /// A durable quorum queue, optionally with a delivery limit and a dead-letter route.
    ///
    /// With `atLeastOnceDeadLettering`, sets `x-dead-letter-strategy: at-least-once` and the
    /// `x-overflow: reject-publish` it requires, so dead-lettered messages cannot be lost.
    public static func quorum(
        name: String, deliveryLimit: Int? = nil, deadLetterExchange: String? = nil,
        deadLetterRoutingKey: String? = nil, messageTTLMilliseconds: Int? = nil,
        atLeastOnceDeadLettering: Bool = false, extraArguments: AMQPTable = [:]
    ) -> QueueDeclaration {
        var arguments: AMQPTable = ["x-queue-type": "quorum"]
        if let deliveryLimit { arguments["x-delivery-limit"] = .int64(Int64(deliveryLimit)) }
        if let deadLetterExchange { arguments["x-dead-letter-exchange"] = .string(deadLetterExchange) }
        if let deadLetterRoutingKey { arguments["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
        if let messageTTLMilliseconds { arguments["x-message-ttl"] = .int64(Int64(messageTTLMilliseconds)) }
        if atLeastOnceDeadLettering {
            arguments["x-dead-letter-strategy"] = "at-least-once"
            arguments["x-overflow"] = "reject-publish"
        }
        arguments.merge(extraArguments) { _, extra in extra }
        return QueueDeclaration(name: name, durable: true, arguments: arguments)
    }
}

/// A binding of a queue to an exchange, replayed after every reconnect.
public struct QueueBinding: Sendable, Equatable {
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: AMQPTable

    public init(queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// What a queue declaration (active or passive) reports.
public struct QueueState: Sendable, Equatable {
    public var name: String
    /// Messages ready for delivery (not counting unacknowledged ones).
    public var messageCount: UInt32
    public var consumerCount: UInt32
}

/// A queue or exchange argument value (AMQP field-table entries the pool uses).
public enum ArgumentValue: Sendable, Equatable, Hashable, CustomStringConvertible {
    case string(String)
    case int(Int)

    public var description: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        }
    }
}

/// One named argument, kept in declaration order.
public struct QueueArgument: Sendable, Equatable, Hashable {
    public var name: String
    public var value: ArgumentValue

    public init(_ name: String, _ value: ArgumentValue) {
        self.name = name
        self.value = value
    }
}

/// An exchange to declare.
public struct ExchangeSpec: Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable, Equatable, Hashable { case direct, fanout, topic }
    public var name: String
    public var kind: Kind
    public var durable: Bool

    public init(name: String, kind: Kind = .direct, durable: Bool = true) {
        self.name = name
        self.kind = kind
        self.durable = durable
    }
}

/// A queue to declare.
public struct QueueSpec: Sendable, Equatable, Hashable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: [QueueArgument]

    public init(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false, arguments: [QueueArgument] = []) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }

    /// The value of argument `name`, if declared.
    public func argument(_ name: String) -> ArgumentValue? {
        arguments.first { $0.name == name }?.value
    }
}

/// A queue bound to an exchange with a routing key.
public struct BindingSpec: Sendable, Equatable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String

    public init(queue: String, exchange: String, routingKey: String) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
    }
}

/// Where a message is published: an exchange and a routing key.
public struct Route: Sendable, Equatable, Hashable {
    public var exchange: String
    public var routingKey: String

    public init(exchange: String, routingKey: String) {
        self.exchange = exchange
        self.routingKey = routingKey
    }
}

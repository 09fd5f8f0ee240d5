/// A message to publish.
public struct OutboundMessage: Sendable, Equatable {
    /// The exchange; `""` is the default exchange, which routes by queue name.
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: AMQPProperties
    /// When set, the broker returns the message (`PublishOutcome.returned`) if no queue takes it.
    public var mandatory: Bool

    public init(
        exchange: String = "", routingKey: String, body: [UInt8],
        properties: AMQPProperties = .persistent(), mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

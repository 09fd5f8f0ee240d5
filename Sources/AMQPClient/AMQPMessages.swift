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

/// What the broker did with one published message.
public enum PublishOutcome: Sendable, Equatable {
    /// The broker took responsibility for the message (persisted to its queues).
    case confirmed
    /// Mandatory and unroutable: the broker handed it back (`replyText` says why, e.g. NO_ROUTE).
    case returned(replyCode: Int, replyText: String)
    /// The broker refused the message (e.g. a full queue with `reject-publish`).
    case nacked
    /// The connection or channel went away before the broker answered; the message may or may not be stored.
    case unconfirmed(AMQPError)

    /// Whether the broker confirmed the message.
    public var isConfirmed: Bool { self == .confirmed }
}

/// A message received from a queue by a consumer or `basic.get`.
public struct AMQPDelivery: Sendable {
    public var body: [UInt8]
    public var properties: AMQPProperties
    public var exchange: String
    public var routingKey: String
    /// The broker delivered this message before (to this or another consumer) without an ack.
    public var redelivered: Bool
    /// The broker's tag for this delivery on its channel.
    public var deliveryTag: UInt64
    /// The consumer tag for consumer deliveries, `nil` for `basic.get`.
    public var consumerTag: String?
    /// Messages left in the queue, for `basic.get` only.
    public var messageCount: UInt32?
    /// Which channel incarnation the delivery came from; acks for an earlier one are not sent.
    let channelEpoch: UInt64

    /// The headers of the message, or an empty table.
    public var headers: AMQPTable { properties.headers ?? [:] }
}

/// What happened to an ack, nack or reject.
public enum AcknowledgementResult: Sendable, Equatable {
    /// Sent to the broker.
    case sent
    /// Not sent: the delivery came over a connection or channel that has since been replaced, so the
    /// broker has already put the message back for redelivery.
    case staleDelivery
}

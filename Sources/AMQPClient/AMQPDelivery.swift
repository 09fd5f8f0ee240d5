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

    /// A delivery made elsewhere than by a connection (an in-memory queue): acking it on a connection is a
    /// stale delivery, never an ack of another message.
    public init(
        body: [UInt8], properties: AMQPProperties = AMQPProperties(), exchange: String = "", routingKey: String,
        redelivered: Bool = false, deliveryTag: UInt64, consumerTag: String? = nil
    ) {
        self.init(
            body: body, properties: properties, exchange: exchange, routingKey: routingKey, redelivered: redelivered,
            deliveryTag: deliveryTag, consumerTag: consumerTag, messageCount: nil, channelEpoch: 0)
    }

    init(
        body: [UInt8], properties: AMQPProperties, exchange: String, routingKey: String, redelivered: Bool,
        deliveryTag: UInt64, consumerTag: String?, messageCount: UInt32?, channelEpoch: UInt64
    ) {
        self.body = body
        self.properties = properties
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        self.consumerTag = consumerTag
        self.messageCount = messageCount
        self.channelEpoch = channelEpoch
    }

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

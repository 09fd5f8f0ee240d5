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

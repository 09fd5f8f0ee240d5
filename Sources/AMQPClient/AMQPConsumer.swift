/// The deliveries of one consumer, in arrival order.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    /// The consumer tag, stable across reconnects.
    public let tag: String
    public let queue: String
    let deliveries: AsyncStream<AMQPDelivery>

    /// A consumer fed by something other than a connection (an in-memory queue).
    public init(tag: String, queue: String, deliveries: AsyncStream<AMQPDelivery>) {
        self.tag = tag
        self.queue = queue
        self.deliveries = deliveries
    }

    public func makeAsyncIterator() -> AsyncStream<AMQPDelivery>.AsyncIterator {
        deliveries.makeAsyncIterator()
    }
}

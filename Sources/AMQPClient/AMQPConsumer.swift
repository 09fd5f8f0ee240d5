/// The deliveries of one consumer, in arrival order.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    /// The consumer tag, stable across reconnects.
    public let tag: String
    public let queue: String
    let deliveries: AsyncStream<AMQPDelivery>

    public func makeAsyncIterator() -> AsyncStream<AMQPDelivery>.AsyncIterator {
        deliveries.makeAsyncIterator()
    }
}

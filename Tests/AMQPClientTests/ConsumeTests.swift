import AMQPClient
import Testing

@Suite struct ConsumeTests {
    @Test func consumerReceivesBodyPropertiesAndHeadersAndAckRemovesTheMessage() async throws {
        let connection = try await Broker.connect("consume-ack")
        let queue = Broker.uniqueName("consume")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        try await connection.setPrefetch(10)
        let consumer = try await connection.consume(queue: queue)
        let sent = OutboundMessage(
            routingKey: queue, body: bytes("{\"endpoint\":42}"),
            properties: .persistent(
                contentType: "application/json", messageID: "job-42",
                headers: ["x-attempt": .int64(3), "origin": "scheduler", "tags": .array(["a", .int32(1)])]))
        #expect(try await connection.publish(sent) == .confirmed)

        let delivery = try await nextDelivery(consumer)
        #expect(delivery.body == sent.body)
        #expect(delivery.routingKey == queue)
        #expect(delivery.redelivered == false)
        #expect(delivery.consumerTag == consumer.tag)
        #expect(delivery.properties.messageID == "job-42")
        #expect(delivery.properties.deliveryMode == 2)
        #expect(delivery.headers["x-attempt"] == .int64(3))
        #expect(delivery.headers["origin"] == "scheduler")
        #expect(delivery.headers["tags"] == .array(["a", .int32(1)]))
        #expect(try await connection.ack(delivery) == .sent)
        try await connection.cancel(consumer)
        #expect(try await connection.inspectQueue(queue).messageCount == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func nackWithRequeueRedeliversAndRejectWithoutRequeueDropsIt() async throws {
        let connection = try await Broker.connect("consume-nack")
        let queue = Broker.uniqueName("nack")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let consumer = try await connection.consume(queue: queue)
        #expect(try await connection.publish(OutboundMessage(routingKey: queue, body: bytes("again"))) == .confirmed)
        let first = try await nextDelivery(consumer)
        #expect(try await connection.nack(first, requeue: true) == .sent)
        let second = try await nextDelivery(consumer)
        #expect(second.body == bytes("again"))
        #expect(second.redelivered)
        #expect(try await connection.reject(second, requeue: false) == .sent)
        try await connection.cancel(consumer)
        #expect(try await connection.get(queue: queue) == nil)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func prefetchLimitsUnacknowledgedDeliveries() async throws {
        let connection = try await Broker.connect("consume-prefetch")
        let queue = Broker.uniqueName("prefetch")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        try await connection.setPrefetch(2)
        _ = try await connection.publish((0..<5).map { OutboundMessage(routingKey: queue, body: bytes("\($0)")) })
        let consumer = try await connection.consume(queue: queue)
        let first = try await nextDelivery(consumer)
        _ = try await nextDelivery(consumer)
        try await Task.sleep(for: .milliseconds(300))
        // Two delivered and unacked: the broker holds the other three back.
        #expect(try await connection.inspectQueue(queue).messageCount == 3)
        try await connection.ack(first)
        let third = try await nextDelivery(consumer)
        #expect(third.body == bytes("2"))
        try await connection.cancel(consumer)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func cancelledConsumerSequenceEnds() async throws {
        let connection = try await Broker.connect("consume-cancel")
        let queue = Broker.uniqueName("cancel")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let consumer = try await connection.consume(queue: queue)
        #expect(try await connection.inspectQueue(queue).consumerCount == 1)
        try await connection.cancel(consumer)
        let ended = try await within(10, "the end of the cancelled consumer") {
            var iterator = consumer.makeAsyncIterator()
            return await iterator.next() == nil
        }
        #expect(ended)
        #expect(try await connection.inspectQueue(queue).consumerCount == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func abandonedConsumerSequenceCancelsTheConsumerAtTheBroker() async throws {
        let connection = try await Broker.connect("consume-abandon")
        let queue = Broker.uniqueName("abandon")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let consumer = try await connection.consume(queue: queue)
        let reader = Task {
            for await _ in consumer {}
        }
        #expect(try await connection.inspectQueue(queue).consumerCount == 1)
        reader.cancel()
        await reader.value
        let consumers = try await within(10, "the broker to drop the abandoned consumer") {
            while try await connection.inspectQueue(queue).consumerCount != 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
            return 0
        }
        #expect(consumers == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func unackedDeliveryOfAnAbortedConsumerGoesToAnotherConsumerRedelivered() async throws {
        let publisher = try await Broker.connect("redeliver-publisher")
        let first = try await Broker.connect("redeliver-first")
        let second = try await Broker.connect("redeliver-second")
        let queue = Broker.uniqueName("redeliver")
        try await publisher.declare(QueueDeclaration.quorum(name: queue))
        let firstConsumer = try await first.consume(queue: queue)
        #expect(try await publisher.publish(OutboundMessage(routingKey: queue, body: bytes("work"))) == .confirmed)
        let taken = try await nextDelivery(firstConsumer)
        #expect(taken.redelivered == false)

        let secondConsumer = try await second.consume(queue: queue)
        await first.abort()
        let redelivered = try await nextDelivery(secondConsumer)
        #expect(redelivered.body == bytes("work"))
        #expect(redelivered.redelivered)
        #expect(try await second.ack(redelivered) == .sent)
        // The aborted client refuses further work instead of touching the dead connection.
        await #expect(throws: AMQPError.closed(url: first.redactedURL)) { try await first.ack(taken) }
        try await second.cancel(secondConsumer)
        try await publisher.deleteQueue(queue)
        await second.close()
        await publisher.close()
    }
}

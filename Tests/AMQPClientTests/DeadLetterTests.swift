import AMQPClient
import Testing

@Suite struct DeadLetterTests {
    @Test func messagePastItsDeliveryLimitArrivesInTheDeadLetterQueueWithItsReason() async throws {
        let connection = try await Broker.connect("dead-letter")
        let jobs = Broker.uniqueName("jobs")
        let dead = Broker.uniqueName("dead")
        let exchange = Broker.uniqueName("dlx")
        try await connection.declare(ExchangeDeclaration(name: exchange, type: "direct"))
        try await connection.declare(QueueDeclaration.quorum(name: dead))
        try await connection.bind(QueueBinding(queue: dead, exchange: exchange, routingKey: "dead"))
        try await connection.declare(QueueDeclaration.quorum(
            name: jobs, deliveryLimit: 1, deadLetterExchange: exchange, deadLetterRoutingKey: "dead",
            atLeastOnceDeadLettering: true))

        #expect(try await connection.publish(OutboundMessage(
            routingKey: jobs, body: bytes("poison"), properties: .persistent(messageID: "poison-1"))) == .confirmed)
        // Limit 1 means two deliveries; both are returned to the queue, then the broker dead-letters it.
        for attempt in 1...2 {
            let delivery = try await getWithin(connection, queue: jobs)
            #expect(delivery.redelivered == (attempt > 1))
            try await connection.nack(delivery, requeue: true)
        }
        let deadLettered = try await getWithin(connection, queue: dead)
        #expect(deadLettered.body == bytes("poison"))
        #expect(deadLettered.properties.messageID == "poison-1")
        #expect(deadLettered.headers["x-first-death-reason"] == "delivery_limit")
        #expect(deadLettered.headers["x-first-death-queue"] == .string(jobs))
        let death = try #require(deadLettered.headers["x-death"]?.arrayValue?.first?.tableValue)
        #expect(death["reason"] == "delivery_limit")
        #expect(death["queue"] == .string(jobs))
        try await connection.ack(deadLettered)
        try await connection.deleteQueue(jobs)
        try await connection.deleteQueue(dead)
        try await connection.deleteExchange(exchange)
        await connection.close()
    }
}

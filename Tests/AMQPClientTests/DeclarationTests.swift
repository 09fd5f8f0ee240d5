import AMQPClient
import Testing

@Suite struct DeclarationTests {
    @Test func redeclaringWithDifferentArgumentsNamesTheQueueAndTheArgument() async throws {
        let connection = try await Broker.connect("declare-mismatch")
        let queue = Broker.uniqueName("mismatch")
        try await connection.declare(QueueDeclaration.quorum(name: queue, deliveryLimit: 5))
        let error = await #expect(throws: AMQPError.self) {
            try await connection.declare(QueueDeclaration.quorum(name: queue, deliveryLimit: 7))
        }
        guard case let .declarationMismatch(kind, name, message) = error else {
            Issue.record("expected a declaration mismatch, got \(String(describing: error))")
            return
        }
        #expect(kind == "queue")
        #expect(name == queue)
        #expect(message.contains("x-delivery-limit"))
        #expect("\(error!)".contains(queue))
        // The connection stays usable after the refused declaration.
        #expect(try await connection.inspectQueue(queue).consumerCount == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func passiveDeclareReportsMessageAndConsumerCounts() async throws {
        let connection = try await Broker.connect("declare-passive")
        let queue = Broker.uniqueName("passive")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        _ = try await connection.publish((0..<3).map { OutboundMessage(routingKey: queue, body: bytes("\($0)")) })
        let consumer = try await connection.consume(queue: Broker.uniqueName("other").isEmpty ? queue : queue)
        _ = try await nextDelivery(consumer)
        let state = try await connection.inspectQueue(queue)
        #expect(state.name == queue)
        #expect(state.consumerCount == 1)
        #expect(state.messageCount == 0 || state.messageCount == 2)
        try await connection.cancel(consumer)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func passiveDeclareOfAMissingQueueIsNotFound() async throws {
        let connection = try await Broker.connect("declare-missing")
        let queue = Broker.uniqueName("missing")
        let error = await #expect(throws: AMQPError.self) { try await connection.inspectQueue(queue) }
        guard case let .notFound(kind, name, message) = error else {
            Issue.record("expected notFound, got \(String(describing: error))")
            return
        }
        #expect(kind == "queue")
        #expect(name == queue)
        #expect(message.contains("NOT_FOUND"))
        await connection.close()
    }
}

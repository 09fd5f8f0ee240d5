import AMQPClient
import Testing

@Suite struct PublishConfirmTests {
    @Test func confirmedBatchLandsInQuorumQueueWithItsProperties() async throws {
        let connection = try await Broker.connect("publish-batch")
        let queue = Broker.uniqueName("batch")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let messages = (0..<200).map { index in
            OutboundMessage(
                routingKey: queue, body: bytes("job \(index)"),
                properties: .persistent(
                    contentType: "application/json", messageID: "m-\(index)", headers: ["attempt": .int32(Int32(index))]))
        }
        let outcomes = try await connection.publish(messages)
        #expect(outcomes == Array(repeating: .confirmed, count: 200))
        let state = try await connection.inspectQueue(queue)
        #expect(state.messageCount == 200)

        let first = try #require(try await connection.get(queue: queue))
        #expect(first.body == bytes("job 0"))
        #expect(first.properties.deliveryMode == 2)
        #expect(first.properties.contentType == "application/json")
        #expect(first.properties.messageID == "m-0")
        #expect(first.headers["attempt"]?.intValue == 0)
        #expect(first.messageCount == 199)
        #expect(try await connection.ack(first) == .sent)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func unroutableMandatoryPublishIsReportedReturnedNotSent() async throws {
        let connection = try await Broker.connect("publish-return")
        let queue = Broker.uniqueName("routed")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let outcomes = try await connection.publish([
            OutboundMessage(routingKey: queue, body: bytes("a"), properties: .persistent(messageID: "routed")),
            OutboundMessage(
                routingKey: Broker.uniqueName("nowhere"), body: bytes("b"), properties: .persistent(messageID: "lost")),
            OutboundMessage(routingKey: queue, body: bytes("c"), properties: .persistent(messageID: "routed-too")),
        ])
        #expect(outcomes[0] == .confirmed)
        #expect(outcomes[1] == .returned(replyCode: 312, replyText: "NO_ROUTE"))
        #expect(outcomes[2] == .confirmed)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func publishToMissingExchangeFailsThatBatchAndTheChannelRecovers() async throws {
        let connection = try await Broker.connect("publish-missing-exchange")
        let queue = Broker.uniqueName("after-missing")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let missing = Broker.uniqueName("no-such-exchange")
        let failed = try await connection.publish(OutboundMessage(exchange: missing, routingKey: "k", body: bytes("x")))
        guard case let .unconfirmed(error) = failed, case let .channelClosed(_, code, text) = error else {
            Issue.record("expected an unconfirmed outcome from a channel close, got \(failed)")
            return
        }
        #expect(code == 404)
        #expect(text.contains(missing))
        #expect(try await connection.publish(OutboundMessage(routingKey: queue, body: bytes("y"))) == .confirmed)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func concurrentPublishersAllGetConfirmed() async throws {
        let connection = try await Broker.connect("publish-concurrent")
        let queue = Broker.uniqueName("concurrent")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let outcomes = try await withThrowingTaskGroup(of: [PublishOutcome].self) { group in
            for task in 0..<8 {
                group.addTask {
                    try await connection.publish((0..<50).map { OutboundMessage(routingKey: queue, body: bytes("\(task)-\($0)")) })
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(outcomes.count == 400)
        #expect(outcomes.allSatisfy { $0.isConfirmed })
        #expect(try await connection.inspectQueue(queue).messageCount == 400)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func publishIntoAFullRejectPublishQueueIsReportedNacked() async throws {
        let connection = try await Broker.connect("publish-nack")
        let queue = Broker.uniqueName("full")
        try await connection.declare(QueueDeclaration.quorum(
            name: queue, extraArguments: ["x-max-length": .int64(1), "x-overflow": "reject-publish"]))
        #expect(try await connection.publish(OutboundMessage(routingKey: queue, body: bytes("fits"))) == .confirmed)
        var later: [PublishOutcome] = []
        for index in 0..<3 {
            later.append(try await connection.publish(OutboundMessage(routingKey: queue, body: bytes("overflow \(index)"))))
        }
        #expect(later.contains(.nacked))
        #expect(!later.contains { if case .unconfirmed = $0 { true } else { false } })
        try await connection.deleteQueue(queue)
        await connection.close()
    }
}

import AMQPClient
import Synchronization
import Testing

/// Restarts the private RabbitMQ: run alone, after the other suites (`scripts/test.sh`).
@Suite(.serialized) struct AMQPOutageTests {
    @Test func confirmedPublishToDurableQuorumQueueSurvivesBrokerRestart() async throws {
        let queue = Broker.uniqueName("durable")
        let before = try await Broker.connect("durable-before")
        try await before.declare(QueueDeclaration.quorum(name: queue))
        let outcome = try await before.publish(OutboundMessage(
            routingKey: queue, body: bytes("keep me"), properties: .persistent(messageID: "durable-1")))
        #expect(outcome == .confirmed)
        await before.close()

        try await Broker.services("restart", "rabbitmq")

        let after = try await within(60, "connecting after the restart") {
            while true {
                do { return try await Broker.connect("durable-after") } catch { try await Task.sleep(for: .milliseconds(500)) }
            }
        }
        let survivor = try await getWithin(after, queue: queue, seconds: 60)
        #expect(survivor.body == bytes("keep me"))
        #expect(survivor.properties.messageID == "durable-1")
        #expect(survivor.properties.deliveryMode == 2)
        try await after.ack(survivor)
        try await after.deleteQueue(queue)
        await after.close()
    }

    @Test func clientInUseDuringRestartReportsErrorsThenPublishesAndConsumesAgain() async throws {
        let queue = Broker.uniqueName("outage")
        let publisher = try await Broker.connect("outage-publisher")
        let consumerConnection = try await Broker.connect("outage-consumer")
        try await publisher.declare(QueueDeclaration.quorum(name: queue))
        // Transient topology vanishes with the broker; the client must declare it again on reconnect.
        let transientExchange = Broker.uniqueName("transient-exchange")
        let transientQueue = Broker.uniqueName("transient-queue")
        try await publisher.declare(ExchangeDeclaration(name: transientExchange, type: "direct", durable: false))
        try await publisher.declare(QueueDeclaration(name: transientQueue, durable: false))
        try await publisher.bind(QueueBinding(queue: transientQueue, exchange: transientExchange, routingKey: "k"))
        try await consumerConnection.setPrefetch(5)
        let consumer = try await consumerConnection.consume(queue: queue)

        #expect(try await publisher.publish(OutboundMessage(routingKey: queue, body: bytes("before"))) == .confirmed)
        let unacked = try await nextDelivery(consumer)
        #expect(unacked.body == bytes("before"))

        // Publish steadily through the outage, recording what each attempt reported.
        let failures = Mutex<[String]>([])
        let stop = Mutex(false)
        let steadyPublisher = Task {
            var index = 0
            while !stop.withLock({ $0 }) {
                index += 1
                do {
                    let outcome = try await publisher.publish(OutboundMessage(routingKey: queue, body: bytes("steady \(index)")))
                    if case let .unconfirmed(error) = outcome { failures.withLock { $0.append("\(error)") } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }

        try await Broker.services("restart", "rabbitmq")

        // Publishing works again on the same client, without anyone reconnecting it by hand.
        let marker = "after-restart-marker"
        try await within(90, "a confirmed publish after the restart") {
            while true {
                if let outcome = try? await publisher.publish(OutboundMessage(routingKey: queue, body: bytes(marker))),
                   outcome == .confirmed {
                    return
                }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        stop.withLock { $0 = true }
        await steadyPublisher.value
        let viaReplayedTopology = try await publisher.publish(
            OutboundMessage(exchange: transientExchange, routingKey: "k", body: bytes("replayed")))
        #expect(viaReplayedTopology == .confirmed)
        #expect(try await publisher.inspectQueue(transientQueue).messageCount == 1)

        let reported = failures.withLock { $0 }
        #expect(!reported.isEmpty, "publishing during the restart should have reported errors")
        #expect(reported.allSatisfy { $0.contains("amqp://") && $0.contains("***") && !$0.contains("xiaozhi-amqp") })

        // The consumer resumes on its own; the marker arrives through the same sequence.
        let resumed = try await within(60, "the marker through the resumed consumer") {
            while true {
                let delivery = try await nextDelivery(consumer, within: 60)
                try await consumerConnection.ack(delivery)
                if delivery.body == bytes(marker) { return delivery }
            }
        }
        #expect(resumed.body == bytes(marker))
        // The delivery taken before the restart belongs to the dead connection: its ack is not sent.
        #expect(try await consumerConnection.ack(unacked) == .staleDelivery)

        try await consumerConnection.cancel(consumer)
        try await publisher.deleteQueue(queue)
        try await publisher.deleteQueue(transientQueue)
        try await publisher.deleteExchange(transientExchange)
        await consumerConnection.close()
        await publisher.close()
    }
}

import Testing
@testable import AMQPClient

@Suite struct ConfirmTrackerTests {
    private func tracker(publishing count: Int, batch: UInt64 = 1) -> ConfirmTracker {
        var tracker = ConfirmTracker()
        #expect(tracker.open(batch: batch, count: count) == nil)
        for index in 0..<count {
            tracker.published(batch: batch, index: index, exchange: "", routingKey: "q", messageID: "m\(index)")
        }
        return tracker
    }

    @Test func multipleAckConfirmsEverythingUpToTheTag() {
        var tracker = tracker(publishing: 3)
        #expect(tracker.ack(2, multiple: true).isEmpty)
        #expect(tracker.ack(3, multiple: false) == [.init(batch: 1, outcomes: [.confirmed, .confirmed, .confirmed])])
        #expect(tracker.inFlight == 0)
    }

    @Test func outOfOrderSingleAcksAndANackSettleTheRightMessages() {
        var tracker = tracker(publishing: 3)
        #expect(tracker.ack(3, multiple: false).isEmpty)
        #expect(tracker.nack(1, multiple: false).isEmpty)
        #expect(tracker.ack(2, multiple: false) == [.init(batch: 1, outcomes: [.nacked, .confirmed, .confirmed])])
    }

    @Test func returnBeforeAckMarksThatMessageReturned() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 7, count: 2)
        tracker.published(batch: 7, index: 0, exchange: "", routingKey: "routed", messageID: "a")
        tracker.published(batch: 7, index: 1, exchange: "", routingKey: "nowhere", messageID: "b")
        tracker.returned(exchange: "", routingKey: "nowhere", messageID: "b", replyCode: 312, replyText: "NO_ROUTE")
        #expect(tracker.ack(2, multiple: true) == [
            .init(batch: 7, outcomes: [.confirmed, .returned(replyCode: 312, replyText: "NO_ROUTE")]),
        ])
    }

    @Test func identicalReturnsMatchInPublishOrder() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 3)
        for index in 0..<3 { tracker.published(batch: 1, index: index, exchange: "x", routingKey: "k", messageID: nil) }
        tracker.returned(exchange: "x", routingKey: "k", messageID: nil, replyCode: 312, replyText: "NO_ROUTE")
        let done = tracker.ack(3, multiple: true)
        #expect(done.first?.outcomes == [.returned(replyCode: 312, replyText: "NO_ROUTE"), .confirmed, .confirmed])
    }

    @Test func batchesCompleteIndependently() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 1)
        tracker.published(batch: 1, index: 0, exchange: "", routingKey: "q", messageID: nil)
        _ = tracker.open(batch: 2, count: 2)
        tracker.published(batch: 2, index: 0, exchange: "", routingKey: "q", messageID: nil)
        tracker.published(batch: 2, index: 1, exchange: "", routingKey: "q", messageID: nil)
        #expect(tracker.ack(2, multiple: true) == [.init(batch: 1, outcomes: [.confirmed])])
        #expect(tracker.ack(3, multiple: false) == [.init(batch: 2, outcomes: [.confirmed, .confirmed])])
    }

    @Test func failAllSettlesPendingAsUnconfirmedAndRestartsNumbering() {
        var tracker = tracker(publishing: 2)
        _ = tracker.ack(1, multiple: false)
        let error = AMQPError.connectionLost(url: "amqp://u:***@h:1/%2f", reason: "reset")
        #expect(tracker.failAll(error) == [.init(batch: 1, outcomes: [.confirmed, .unconfirmed(error)])])
        #expect(tracker.nextSequence == 1)
    }

    @Test func emptyBatchCompletesAtOnce() {
        var tracker = ConfirmTracker()
        #expect(tracker.open(batch: 3, count: 0) == .init(batch: 3, outcomes: []))
    }

    @Test func settlingUnsentMessagesCompletesTheBatch() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 2)
        tracker.published(batch: 1, index: 0, exchange: "", routingKey: "q", messageID: nil)
        let error = AMQPError.channelClosed(operation: "publish", replyCode: 404, replyText: "NOT_FOUND")
        #expect(tracker.settle(batch: 1, index: 1, outcome: .unconfirmed(error)) == nil)
        #expect(tracker.ack(1, multiple: false) == [.init(batch: 1, outcomes: [.confirmed, .unconfirmed(error)])])
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func doublesFromInitialUpToTheCap() {
        let backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0.2)
        #expect(backoff.baseDelay(attempt: 1) == .milliseconds(100))
        #expect(backoff.baseDelay(attempt: 2) == .milliseconds(200))
        #expect(backoff.baseDelay(attempt: 4) == .milliseconds(800))
        #expect(backoff.baseDelay(attempt: 5) == .seconds(1))
        #expect(backoff.baseDelay(attempt: 500) == .seconds(1))
    }

    @Test func jitterAddsAtMostTheConfiguredFraction() {
        let backoff = ReconnectBackoff(initial: .seconds(1), maximum: .seconds(10), jitter: 0.2)
        #expect(backoff.delay(attempt: 1, random: 0) == .seconds(1))
        #expect(backoff.delay(attempt: 1, random: 1) == .milliseconds(1200))
        #expect(backoff.delay(attempt: 1, random: 7) == .milliseconds(1200))
    }
}

@Suite struct TopologyRecordTests {
    @Test func redeclarationReplacesInPlaceAndDeletionForgetsBindings() {
        var record = TopologyRecord()
        record.record(.exchange(ExchangeDeclaration(name: "x")))
        record.record(.queue(QueueDeclaration(name: "q")))
        record.record(.binding(QueueBinding(queue: "q", exchange: "x", routingKey: "k")))
        record.record(.queue(QueueDeclaration.quorum(name: "q", deliveryLimit: 3)))
        #expect(record.entries.count == 3)
        #expect(record.entries[1] == .queue(QueueDeclaration.quorum(name: "q", deliveryLimit: 3)))
        record.forgetQueue("q")
        #expect(record.entries == [.exchange(ExchangeDeclaration(name: "x"))])
    }

    @Test func quorumHelperSetsTheDeadLetterArguments() {
        let q = QueueDeclaration.quorum(
            name: "jobs", deliveryLimit: 5, deadLetterExchange: "dlx", deadLetterRoutingKey: "dead",
            messageTTLMilliseconds: 60000, atLeastOnceDeadLettering: true)
        #expect(q.arguments["x-queue-type"] == "quorum")
        #expect(q.arguments["x-delivery-limit"] == .int64(5))
        #expect(q.arguments["x-dead-letter-exchange"] == "dlx")
        #expect(q.arguments["x-dead-letter-routing-key"] == "dead")
        #expect(q.arguments["x-message-ttl"] == .int64(60000))
        #expect(q.arguments["x-dead-letter-strategy"] == "at-least-once")
        #expect(q.arguments["x-overflow"] == "reject-publish")
        #expect(q.durable)
    }
}

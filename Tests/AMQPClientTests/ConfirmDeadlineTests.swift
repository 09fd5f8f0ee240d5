import Testing
@testable import AMQPClient

/// The confirm deadline as a pure rule of `ConfirmTracker`: instants in, outcomes out, no broker.
@Suite struct ConfirmDeadlineTests {
    private let start = ContinuousClock.now
    private let timedOut = AMQPError.confirmTimedOut(after: .seconds(10), brokerBlockedReason: "low on memory")

    @Test func nothingExpiresBeforeTheDeadline() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 1, deadline: start + .seconds(10))
        tracker.published(batch: 1, index: 0, exchange: "", routingKey: "q", messageID: "a")
        #expect(tracker.expire(now: start + .milliseconds(9_999), error: timedOut).isEmpty)
        #expect(tracker.isOpen(1))
        #expect(tracker.inFlight == 1)
    }

    @Test func unansweredMessagesCompleteUnconfirmedAtTheDeadlineAndAnsweredOnesKeepTheirOutcome() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 3, deadline: start + .seconds(10))
        for index in 0..<3 { tracker.published(batch: 1, index: index, exchange: "", routingKey: "q", messageID: "m\(index)") }
        #expect(tracker.ack(1, multiple: false).isEmpty)
        #expect(tracker.nack(3, multiple: false).isEmpty)
        #expect(tracker.expire(now: start + .seconds(10), error: timedOut) == [
            .init(batch: 1, outcomes: [.confirmed, .unconfirmed(timedOut), .nacked]),
        ])
        #expect(!tracker.isOpen(1))
        #expect(tracker.inFlight == 0)
    }

    @Test func messagesNeverWrittenExpireWithTheirBatch() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 4, count: 3, deadline: start + .seconds(2))
        tracker.published(batch: 4, index: 0, exchange: "", routingKey: "q", messageID: "written")
        #expect(tracker.expire(now: start + .seconds(3), error: timedOut) == [
            .init(batch: 4, outcomes: [.unconfirmed(timedOut), .unconfirmed(timedOut), .unconfirmed(timedOut)]),
        ])
    }

    @Test func lateAnswersForExpiredMessagesSettleNothingElse() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 2, deadline: start + .seconds(1))
        tracker.published(batch: 1, index: 0, exchange: "", routingKey: "q", messageID: "a")
        tracker.published(batch: 1, index: 1, exchange: "", routingKey: "q", messageID: "b")
        #expect(tracker.expire(now: start + .seconds(1), error: timedOut).count == 1)
        _ = tracker.open(batch: 2, count: 1, deadline: start + .seconds(20))
        tracker.published(batch: 2, index: 0, exchange: "", routingKey: "q", messageID: "c")

        // The broker answers the expired messages 1 and 2 late: message 3 must stay pending.
        #expect(tracker.ack(2, multiple: true).isEmpty)
        #expect(tracker.nack(1, multiple: false).isEmpty)
        #expect(tracker.isOpen(2))
        #expect(tracker.inFlight == 1)
        #expect(tracker.ack(3, multiple: true) == [.init(batch: 2, outcomes: [.confirmed])])
    }

    @Test func eachBatchExpiresByItsOwnDeadlineAndBatchesWithoutOneNever() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 1, deadline: start + .seconds(5))
        _ = tracker.open(batch: 2, count: 1, deadline: start + .seconds(1))
        _ = tracker.open(batch: 3, count: 1)
        for batch: UInt64 in 1...3 { tracker.published(batch: batch, index: 0, exchange: "", routingKey: "q", messageID: nil) }

        #expect(tracker.expire(now: start + .seconds(2), error: timedOut) == [.init(batch: 2, outcomes: [.unconfirmed(timedOut)])])
        #expect(tracker.expire(now: start + .seconds(6), error: timedOut) == [.init(batch: 1, outcomes: [.unconfirmed(timedOut)])])
        #expect(tracker.expire(now: start + .seconds(3_600), error: timedOut).isEmpty)
        #expect(tracker.isOpen(3))
        #expect(tracker.ack(3, multiple: false) == [.init(batch: 3, outcomes: [.confirmed])])
    }

    @Test func aBatchConfirmedInTimeIsNotExpiredLater() {
        var tracker = ConfirmTracker()
        _ = tracker.open(batch: 1, count: 1, deadline: start + .seconds(1))
        tracker.published(batch: 1, index: 0, exchange: "", routingKey: "q", messageID: nil)
        #expect(tracker.ack(1, multiple: false) == [.init(batch: 1, outcomes: [.confirmed])])
        #expect(tracker.expire(now: start + .seconds(2), error: timedOut).isEmpty)
    }

    @Test func theTimeoutErrorSaysHowLongAndWhyTheBrokerBlocked() {
        #expect(timedOut.description == "broker did not confirm the publish within 10 s (the broker is blocking publishers: low on memory)")
        let unblocked = AMQPError.confirmTimedOut(after: .milliseconds(1_500), brokerBlockedReason: nil)
        #expect(unblocked.description == "broker did not confirm the publish within 1.5 s")
    }
}

import AMQPClient
import Synchronization
import Testing
@testable import Recovery

/// A job's publish waits through a publishing connection that is coming back, instead of bouncing the
/// delivery until the queue's delivery limit dead-letters it.
@Suite struct BrokerReconnectWaitTests {
    struct Refused: Error {}

    private static let lost = AMQPError.connectionLost(url: "amqp://broker", reason: "not connected (reconnecting)")

    @Test func onlyAConnectionThatIsAwayCounts() {
        #expect(BrokerReconnectWait.isConnectionAway(Self.lost))
        #expect(BrokerReconnectWait.isConnectionAway(AMQPError.connectionFailed(url: "amqp://broker", reason: "refused")))
        #expect(BrokerReconnectWait.isConnectionAway(AMQPError.timedOut(operation: "publish")))
        #expect(!BrokerReconnectWait.isConnectionAway(AMQPError.channelClosed(operation: "publish", replyCode: 404, replyText: "NOT_FOUND")))
        #expect(!BrokerReconnectWait.isConnectionAway(AMQPError.closed(url: "amqp://broker")))
        #expect(!BrokerReconnectWait.isConnectionAway(Refused()))
    }

    @Test func aPublishIsTriedAgainUntilTheConnectionIsBack() async throws {
        let calls = Atomic<Int>(0)
        let pauses = Mutex<[Duration]>([])
        let value = try await BrokerReconnectWait.run(pause: { pause in pauses.withLock { $0.append(pause) } }, stopping: { false }) {
            if calls.add(1, ordering: .relaxed).newValue <= 6 { throw Self.lost }
            return 7
        }
        #expect(value == 7)
        #expect(calls.load(ordering: .relaxed) == 7)
        // Growing pauses, a second at most.
        #expect(pauses.withLock { $0 } == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
    }

    @Test func aRefusalIsThrownAtOnce() async {
        let calls = Atomic<Int>(0)
        await #expect(throws: Refused.self) {
            try await BrokerReconnectWait.run(pause: { _ in }, stopping: { false }) {
                calls.add(1, ordering: .relaxed)
                throw Refused()
            }
        }
        #expect(calls.load(ordering: .relaxed) == 1)
    }

    @Test func aStoppingWorkerAndAnExhaustedPatienceGiveUp() async {
        for (patience, stopping) in [(Duration.seconds(30), true), (.zero, false)] {
            let calls = Atomic<Int>(0)
            await #expect(throws: AMQPError.self) {
                try await BrokerReconnectWait.run(patience: patience, pause: { _ in }, stopping: { stopping }) {
                    calls.add(1, ordering: .relaxed)
                    throw Self.lost
                }
            }
            #expect(calls.load(ordering: .relaxed) == 1)
        }
    }
}

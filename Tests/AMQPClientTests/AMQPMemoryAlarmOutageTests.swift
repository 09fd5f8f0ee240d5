import AMQPClient
import Foundation
import Testing

/// Raises a memory alarm on the test broker (every publisher on it is blocked meanwhile): run alone, after
/// the other suites (`scripts/test.sh`).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AMQPMemoryAlarmOutageTests {
    static let confirmTimeout = Duration.seconds(2)

    static func publisher(_ name: String) async throws -> AMQPConnection {
        var configuration = try Broker.configuration(name: name)
        configuration.confirmTimeout = confirmTimeout
        return try await AMQPConnection.connect(configuration: configuration)
    }

    @Test func publishesUnderAMemoryAlarmReturnUnconfirmedAtTheDeadlineThenConfirmAgainOnTheSameConnection() async throws {
        let queue = Broker.uniqueName("memory-alarm")
        let connection = try await Self.publisher("memory-alarm-publisher")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        @Sendable func message(_ text: String) -> OutboundMessage {
            OutboundMessage(routingKey: queue, body: bytes(text), properties: .persistent(messageID: text))
        }
        #expect(try await connection.publish(message("before")) == .confirmed)
        #expect(!connection.isPublishingBlocked)

        let (probe, blockedOutcome, blockedSeconds, reason) = try await BrokerMemoryAlarm.during { _ in
            // The broker blocks a connection on its first publish under the alarm; that one may or may not
            // be confirmed, depending on how far the broker had read it.
            let probeStarted = ContinuousClock.now
            let probe = try await within(30, "the first publish under the alarm") {
                try await connection.publish(message("probe"))
            }
            print("memory alarm: first publish returned \(probe) after \(ContinuousClock.now - probeStarted)")
            let told = try await within(20, "connection.blocked from the broker") {
                while !connection.isPublishingBlocked { try await Task.sleep(for: .milliseconds(100)) }
                return true
            }
            #expect(told)

            // Now blocked: the publish must come back unconfirmed at its deadline, not hang.
            let started = ContinuousClock.now
            let outcome = try await within(30, "a publish while the broker blocks publishing") {
                try await connection.publish(message("blocked"))
            }
            let elapsed = ContinuousClock.now - started
            return (probe, outcome, elapsed, connection.publishingBlockedReason)
        }
        print("memory alarm: blocked publish returned \(blockedOutcome) after \(blockedSeconds) (confirm timeout \(Self.confirmTimeout)); broker's reason: \(reason ?? "none")")
        #expect(blockedOutcome == .unconfirmed(.confirmTimedOut(after: Self.confirmTimeout, brokerBlockedReason: reason)))
        #expect(reason?.contains("memory") == true, "the broker's reason names the memory alarm: \(reason ?? "none")")
        #expect(probe == .confirmed || probe.isUnconfirmedInTime)

        // Alarm cleared: the broker unblocks the connection and publishing confirms again on it.
        let unblocked = try await within(30, "connection.unblocked from the broker") {
            while connection.isPublishingBlocked { try await Task.sleep(for: .milliseconds(100)) }
            return true
        }
        #expect(unblocked)
        let afterStarted = ContinuousClock.now
        let after = try await within(30, "a publish after the alarm") { try await connection.publish(message("after")) }
        print("memory alarm: publish after the alarm returned \(after) after \(ContinuousClock.now - afterStarted)")
        #expect(after == .confirmed)

        // The publish that timed out while held was never written: the caller may publish it again
        // without making a duplicate. The first publish got to the broker, confirmed in time or not.
        var stored: [String] = []
        while let delivery = try await connection.get(queue: queue) {
            stored.append(String(decoding: delivery.body, as: UTF8.self))
            try await connection.ack(delivery)
        }
        print("memory alarm: queue holds \(stored)")
        #expect(stored.contains("before") && stored.contains("after"))
        #expect(!stored.contains("blocked"))
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func closingABlockedConnectionDoesNotWaitForTheCloseHandshake() async throws {
        let queue = Broker.uniqueName("memory-alarm-close")
        let connection = try await Self.publisher("memory-alarm-close")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let closeTook = try await BrokerMemoryAlarm.during { _ in
            _ = try await within(30, "the first publish under the alarm") {
                try await connection.publish(OutboundMessage(routingKey: queue, body: bytes("probe")))
            }
            _ = try await within(20, "connection.blocked from the broker") {
                while !connection.isPublishingBlocked { try await Task.sleep(for: .milliseconds(100)) }
                return true
            }
            // The broker reads nothing from a blocked connection: a close handshake would wait out its RPC
            // timeout twice (15 s each here).
            let started = ContinuousClock.now
            try await within(10, "closing a blocked connection") { await connection.close() }
            return ContinuousClock.now - started
        }
        print("memory alarm: closing a blocked connection took \(closeTook)")
        let cleanup = try await Broker.connect("memory-alarm-cleanup")
        try await cleanup.deleteQueue(queue)
        await cleanup.close()
    }
}

extension PublishOutcome {
    /// Unconfirmed because the confirm deadline passed (as opposed to a lost connection).
    var isUnconfirmedInTime: Bool {
        if case .unconfirmed(.confirmTimedOut) = self { return true }
        return false
    }
}

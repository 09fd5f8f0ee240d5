import Foundation
import Logging

/// One AMQP 0-9-1 connection to RabbitMQ, owned by a dedicated thread; every method is async and never
/// blocks the caller's executor.
///
/// The connection reconnects by itself with exponential backoff and restores confirm mode, the prefetch,
/// every declaration made through it and every consumer. While it is down, operations fail at once with
/// `AMQPError.connectionLost`. Publishing and consuming on separate connections keeps each thread's
/// work simple and is recommended.
public final class AMQPConnection: Sendable {
    private let mailbox: CommandMailbox
    private let blockState: PublishingBlockState
    /// The broker's URL with the password redacted.
    public let redactedURL: String

    /// The broker's reason (e.g. "low on memory") while it blocks this connection's publishing under a
    /// resource alarm, nil otherwise. Publishes made meanwhile wait, and complete `.unconfirmed` at their
    /// confirm deadline unless the broker unblocks first.
    public var publishingBlockedReason: String? { blockState.blockedReason }

    /// Whether the broker blocks this connection's publishing (see `publishingBlockedReason`).
    public var isPublishingBlocked: Bool { blockState.blockedReason != nil }

    private init(mailbox: CommandMailbox, blockState: PublishingBlockState, redactedURL: String) {
        self.mailbox = mailbox
        self.blockState = blockState
        self.redactedURL = redactedURL
    }

    deinit {
        mailbox.post(.init(run: { $0.shutDown(abrupt: false) }, fail: { _ in }))
    }

    /// Connects and logs in; throws a typed error naming the URL (password redacted) on failure.
    public static func connect(
        configuration: AMQPConfiguration, logger: Logger = Logger(label: "amqp")
    ) async throws(AMQPError) -> AMQPConnection {
        let mailbox = CommandMailbox()
        let blockState = PublishingBlockState()
        let result: Result<Void, AMQPError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                let loop = ConnectionLoop(configuration: configuration, mailbox: mailbox, blockState: blockState, logger: logger)
                loop.run { continuation.resume(returning: $0) }
            }
            thread.name = "amqp-\(configuration.connectionName ?? "connection")"
            thread.start()
        }
        try result.get()
        return AMQPConnection(mailbox: mailbox, blockState: blockState, redactedURL: configuration.url.redacted)
    }

    /// Connects to `urlString` (typically `AMQP_URL`).
    public static func connect(
        url urlString: String, connectionName: String? = nil, logger: Logger = Logger(label: "amqp")
    ) async throws(AMQPError) -> AMQPConnection {
        try await connect(
            configuration: AMQPConfiguration(urlString: urlString, connectionName: connectionName), logger: logger)
    }

    /// Runs `work` on the connection thread and returns its result.
    private func perform<T: Sendable>(
        _ work: @escaping @Sendable (ConnectionLoop) throws(AMQPError) -> T
    ) async throws(AMQPError) -> T {
        let result: Result<T, AMQPError> = await withCheckedContinuation { continuation in
            mailbox.post(.init(
                run: { loop in
                    do throws(AMQPError) {
                        continuation.resume(returning: .success(try work(loop)))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                },
                fail: { continuation.resume(returning: .failure($0)) }))
        }
        return try result.get()
    }

    // MARK: Topology

    /// Declares an exchange (and replays the declaration after reconnects).
    public func declare(_ exchange: ExchangeDeclaration) async throws(AMQPError) {
        try await perform { loop throws(AMQPError) in try loop.declare(.exchange(exchange)) }
    }

    /// Declares a queue (and replays the declaration after reconnects). A conflicting existing queue
    /// gives `AMQPError.declarationMismatch` naming the queue and the broker's message.
    @discardableResult
    public func declare(_ queue: QueueDeclaration) async throws(AMQPError) -> QueueState {
        try await perform { loop throws(AMQPError) in try loop.declareQueue(queue, passive: false) }
    }

    /// Binds a queue to an exchange (and replays the binding after reconnects).
    public func bind(_ binding: QueueBinding) async throws(AMQPError) {
        try await perform { loop throws(AMQPError) in try loop.declare(.binding(binding)) }
    }

    /// Checks that a queue exists and reports its ready-message and consumer counts (`AMQPError.notFound` if not).
    public func inspectQueue(_ name: String) async throws(AMQPError) -> QueueState {
        try await perform { loop throws(AMQPError) in try loop.declareQueue(QueueDeclaration(name: name), passive: true) }
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String) async throws(AMQPError) -> UInt32 {
        try await perform { loop throws(AMQPError) in try loop.deleteQueue(name) }
    }

    /// Removes all ready messages from a queue; returns how many.
    @discardableResult
    public func purgeQueue(_ name: String) async throws(AMQPError) -> UInt32 {
        try await perform { loop throws(AMQPError) in try loop.purgeQueue(name) }
    }

    /// Deletes an exchange.
    public func deleteExchange(_ name: String) async throws(AMQPError) {
        try await perform { loop throws(AMQPError) in try loop.deleteExchange(name) }
    }

    // MARK: Publishing

    /// Publishes all `messages` back to back with publisher confirms and waits for the broker's verdict
    /// on each; outcomes are in the order of `messages`. Returns within `AMQPConfiguration.confirmTimeout`
    /// (plus a fraction of a second): messages the broker has not answered by then are
    /// `.unconfirmed(.confirmTimedOut)`.
    public func publish(_ messages: [OutboundMessage]) async throws(AMQPError) -> [PublishOutcome] {
        let result: Result<[PublishOutcome], AMQPError> = await withCheckedContinuation { continuation in
            mailbox.post(.init(
                run: { loop in loop.publish(messages) { continuation.resume(returning: $0) } },
                fail: { continuation.resume(returning: .failure($0)) }))
        }
        return try result.get()
    }

    /// Publishes one message with a publisher confirm.
    public func publish(_ message: OutboundMessage) async throws(AMQPError) -> PublishOutcome {
        try await publish([message])[0]
    }

    // MARK: Consuming

    /// Sets how many unacknowledged deliveries the broker may send to this connection's consumers.
    public func setPrefetch(_ count: UInt16) async throws(AMQPError) {
        try await perform { loop throws(AMQPError) in try loop.setPrefetch(count) }
    }

    /// Starts a consumer with manual acknowledgement. The returned sequence ends when the consumer is
    /// cancelled (by `cancel`, the broker, or `close`); across reconnects it carries on.
    public func consume(
        queue: String, consumerTag: String? = nil, exclusive: Bool = false, arguments: AMQPTable = [:]
    ) async throws(AMQPError) -> AMQPConsumer {
        let tag = consumerTag ?? "consumer-\(UUID().uuidString.lowercased())"
        let (stream, continuation) = AsyncStream.makeStream(of: AMQPDelivery.self)
        let registration = ConsumerRegistration(
            tag: tag, queue: queue, exclusive: exclusive, arguments: arguments, continuation: continuation)
        do {
            try await perform { loop throws(AMQPError) in try loop.addConsumer(registration) }
        } catch {
            continuation.finish()
            throw error
        }
        // A consumer whose reader went away (its task was cancelled) is cancelled at the broker too, so its
        // prefetch window does not hold messages nobody will read.
        continuation.onTermination = { [mailbox] termination in
            guard case .cancelled = termination else { return }
            mailbox.post(.init(run: { loop in try? loop.cancelConsumer(tag: tag) }, fail: { _ in }))
        }
        return AMQPConsumer(tag: tag, queue: queue, deliveries: stream)
    }

    /// Cancels a consumer; its sequence ends. Unacknowledged deliveries stay with the broker until settled.
    public func cancel(_ consumer: AMQPConsumer) async throws(AMQPError) {
        try await perform { loop throws(AMQPError) in try loop.cancelConsumer(tag: consumer.tag) }
    }

    /// Fetches one message (`basic.get`), or nil when the queue is empty.
    public func get(queue: String) async throws(AMQPError) -> AMQPDelivery? {
        try await perform { loop throws(AMQPError) in try loop.get(queue: queue) }
    }

    /// Acknowledges a delivery. A delivery from a replaced connection is not acked (`.staleDelivery`).
    @discardableResult
    public func ack(_ delivery: AMQPDelivery) async throws(AMQPError) -> AcknowledgementResult {
        try await perform { loop throws(AMQPError) in try loop.acknowledge(delivery, .ack) }
    }

    /// Negatively acknowledges a delivery, requeueing it or (without requeue) dead-lettering it.
    @discardableResult
    public func nack(_ delivery: AMQPDelivery, requeue: Bool) async throws(AMQPError) -> AcknowledgementResult {
        try await perform { loop throws(AMQPError) in try loop.acknowledge(delivery, .nack(requeue: requeue)) }
    }

    /// Rejects a delivery, requeueing it or (without requeue) dead-lettering it.
    @discardableResult
    public func reject(_ delivery: AMQPDelivery, requeue: Bool) async throws(AMQPError) -> AcknowledgementResult {
        try await perform { loop throws(AMQPError) in try loop.acknowledge(delivery, .reject(requeue: requeue)) }
    }

    // MARK: Lifecycle

    /// Closes the connection gracefully; consumers' sequences end and later calls fail with `.closed`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            mailbox.post(.init(
                run: { loop in
                    loop.shutDown(abrupt: false)
                    continuation.resume()
                },
                fail: { _ in continuation.resume() }))
        }
    }

    /// Drops the TCP connection without the AMQP close handshake, as a crashed process would, and stops.
    /// The broker requeues this connection's unacknowledged deliveries.
    public func abort() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            mailbox.post(.init(
                run: { loop in
                    loop.shutDown(abrupt: true)
                    continuation.resume()
                },
                fail: { _ in continuation.resume() }))
        }
    }
}

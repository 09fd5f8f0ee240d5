import CRabbitMQ

/// A publish batch whose messages are written to the socket in order, from `next` on.
struct QueuedPublish {
    let batch: ConfirmTracker.BatchID
    let messages: [OutboundMessage]
    var next = 0
}

/// Publishing with confirms on the connection thread.
///
/// Every batch gets a confirm deadline (`AMQPConfiguration.confirmTimeout`) when it is published. Messages
/// are written in order while the broker accepts publishes; after `connection.blocked` they wait in
/// `queuedPublishes` instead of filling the socket the broker no longer reads, and go out on
/// `connection.unblocked` if their deadline has not passed. The deadline is checked on every turn of the
/// loop, so a caller hears `.unconfirmed(.confirmTimedOut)` in bounded time, on this thread alone.
extension ConnectionLoop {
    func publish(_ messages: [OutboundMessage], completion: @escaping @Sendable (Result<[PublishOutcome], AMQPError>) -> Void) {
        guard connection != nil else {
            completion(.failure(notConnected()))
            return
        }
        let batch = nextBatch
        nextBatch += 1
        batchWaiters[batch] = completion
        if let done = confirms.open(batch: batch, count: messages.count, deadline: .now + configuration.confirmTimeout) {
            complete([done])
            return
        }
        queuedPublishes.append(QueuedPublish(batch: batch, messages: messages))
        writeQueuedPublishes()
    }

    /// Expires overdue confirms, then writes what is queued if the broker accepts publishes.
    func servicePublishing() {
        expireConfirms()
        if !queuedPublishes.isEmpty && blockState.blockedReason == nil {
            writeQueuedPublishes()
        }
    }

    /// Completes the batches past their confirm deadline with `.confirmTimedOut`.
    func expireConfirms() {
        let error = AMQPError.confirmTimedOut(
            after: configuration.confirmTimeout, brokerBlockedReason: blockState.blockedReason)
        let expired = confirms.expire(now: .now, error: error)
        guard !expired.isEmpty else { return }
        let unanswered = expired.reduce(0) { count, completion in
            count + completion.outcomes.count(where: { $0 == .unconfirmed(error) })
        }
        logger.warning(
            "AMQP publishes not confirmed in time",
            metadata: ["messages": "\(unanswered)", "error": "\(error)", "queued.batches": "\(queuedPublishes.count)"])
        complete(expired)
        queuedPublishes.removeAll { !confirms.isOpen($0.batch) }
    }

    /// Writes queued messages in order until the queue is empty, the broker blocks publishing, or the
    /// connection goes. The watchdog bounds each stretch of writing, so a socket the broker stopped
    /// reading cannot hold this thread.
    func writeQueuedPublishes() {
        var written = 0
        watchWrites(for: configuration.confirmTimeout, while: "publishing")
        while let conn = connection, blockState.blockedReason == nil, let entry = queuedPublishes.first {
            guard confirms.isOpen(entry.batch), entry.next < entry.messages.count else {
                queuedPublishes.removeFirst()
                continue
            }
            let index = entry.next
            let message = entry.messages[index]
            scratch.reset()
            var properties = scratch.properties(message.properties)
            let exchange = scratch.bytes(message.exchange), routingKey = scratch.bytes(message.routingKey)
            let status = message.body.withUnsafeBytes { body in
                amqp_basic_publish(
                    conn, Self.dataChannel, exchange, routingKey, message.mandatory ? 1 : 0, 0, &properties,
                    amqp_bytes_t(len: body.count, bytes: body.count > 0 ? UnsafeMutableRawPointer(mutating: body.baseAddress) : nil))
            }
            guard status == AMQP_STATUS_OK.rawValue else {
                // Fails the queued publishes, this one included, with the loss.
                connectionLost("publishing: \(Self.describe(status))")
                return
            }
            queuedPublishes[0].next = index + 1
            if index + 1 == entry.messages.count { queuedPublishes.removeFirst() }
            confirms.published(
                batch: entry.batch, index: index, exchange: message.exchange, routingKey: message.routingKey,
                messageID: message.properties.messageID)
            written += 1
            if written % 64 == 0 {
                // Confirms, returns and a `connection.blocked` arrive while a long batch goes out.
                readAvailableFrames()
                watchWrites(for: configuration.confirmTimeout, while: "publishing")
            }
        }
    }

    /// Settles every message still queued as `.unconfirmed(error)` (the channel or connection is gone).
    func failQueuedPublishes(_ error: AMQPError) {
        let queued = queuedPublishes
        queuedPublishes.removeAll()
        for entry in queued {
            for index in entry.next..<entry.messages.count {
                complete(confirms.settle(batch: entry.batch, index: index, outcome: .unconfirmed(error)).map { [$0] } ?? [])
            }
        }
    }

    /// Arms the watchdog on the current socket for `limit` from now; nothing to watch while disconnected.
    func watchWrites(for limit: Duration, while activity: String) {
        guard let conn = connection else { return }
        watchdog.watch(descriptor: amqp_get_sockfd(conn), for: limit, activity: activity)
    }
}

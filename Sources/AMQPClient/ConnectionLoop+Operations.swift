import CRabbitMQ

/// The operations callers request through `AMQPConnection`, run on the connection thread.
extension ConnectionLoop {
    func apply(_ entry: TopologyRecord.Entry) throws(AMQPError) {
        scratch.reset()
        let channel = Self.controlChannel
        switch entry {
        case let .exchange(e):
            let name = scratch.bytes(e.name), type = scratch.bytes(e.type), args = scratch.table(e.arguments)
            try rpc("exchange.declare", channel: channel, subject: ("exchange", e.name)) { conn in
                amqp_exchange_declare(conn, channel, name, type, 0, e.durable ? 1 : 0, e.autoDelete ? 1 : 0, e.isInternal ? 1 : 0, args) != nil
            }
        case let .queue(q):
            _ = try declareQueue(q, passive: false)
        case let .binding(b):
            let queue = scratch.bytes(b.queue), exchange = scratch.bytes(b.exchange)
            let key = scratch.bytes(b.routingKey), args = scratch.table(b.arguments)
            try rpc("queue.bind", channel: channel, subject: ("queue", b.queue)) { conn in
                amqp_queue_bind(conn, channel, queue, exchange, key, args) != nil
            }
        }
    }

    func declare(_ entry: TopologyRecord.Entry) throws(AMQPError) {
        try apply(entry)
        topology.record(entry)
    }

    func declareQueue(_ q: QueueDeclaration, passive: Bool) throws(AMQPError) -> QueueState {
        scratch.reset()
        let channel = Self.controlChannel
        let name = scratch.bytes(q.name), args = scratch.table(passive ? [:] : q.arguments)
        var result = QueueState(name: q.name, messageCount: 0, consumerCount: 0)
        try rpc(passive ? "passive queue.declare" : "queue.declare", channel: channel, subject: ("queue", q.name)) { conn in
            guard let ok = amqp_queue_declare(
                conn, channel, name, passive ? 1 : 0, q.durable ? 1 : 0, q.exclusive ? 1 : 0, q.autoDelete ? 1 : 0, args)
            else { return false }
            result = QueueState(
                name: CDecode.string(ok.pointee.queue), messageCount: ok.pointee.message_count,
                consumerCount: ok.pointee.consumer_count)
            return true
        }
        if !passive { topology.record(.queue(q)) }
        return result
    }

    func declareQueueAndRecord(_ q: QueueDeclaration) throws(AMQPError) -> QueueState {
        try declareQueue(q, passive: false)
    }

    func deleteQueue(_ name: String) throws(AMQPError) -> UInt32 {
        scratch.reset()
        let channel = Self.controlChannel
        let queue = scratch.bytes(name)
        var count: UInt32 = 0
        try rpc("queue.delete", channel: channel, subject: ("queue", name)) { conn in
            guard let ok = amqp_queue_delete(conn, channel, queue, 0, 0) else { return false }
            count = ok.pointee.message_count
            return true
        }
        topology.forgetQueue(name)
        return count
    }

    func purgeQueue(_ name: String) throws(AMQPError) -> UInt32 {
        scratch.reset()
        let channel = Self.controlChannel
        let queue = scratch.bytes(name)
        var count: UInt32 = 0
        try rpc("queue.purge", channel: channel, subject: ("queue", name)) { conn in
            guard let ok = amqp_queue_purge(conn, channel, queue) else { return false }
            count = ok.pointee.message_count
            return true
        }
        return count
    }

    func deleteExchange(_ name: String) throws(AMQPError) {
        scratch.reset()
        let channel = Self.controlChannel
        let exchange = scratch.bytes(name)
        try rpc("exchange.delete", channel: channel, subject: ("exchange", name)) { conn in
            amqp_exchange_delete(conn, channel, exchange, 0) != nil
        }
        topology.forgetExchange(name)
    }

    func setPrefetch(_ count: UInt16) throws(AMQPError) {
        try rpc("basic.qos", channel: Self.dataChannel) { conn in
            amqp_basic_qos(conn, Self.dataChannel, 0, count, 0) != nil
        }
        prefetch = count
    }

    func addConsumer(_ consumer: ConsumerRegistration) throws(AMQPError) {
        try startConsumer(consumer)
        consumers.append(consumer)
    }

    func startConsumer(_ consumer: ConsumerRegistration) throws(AMQPError) {
        scratch.reset()
        let queue = scratch.bytes(consumer.queue), tag = scratch.bytes(consumer.tag)
        let args = scratch.table(consumer.arguments)
        try rpc("basic.consume", channel: Self.dataChannel, subject: ("queue", consumer.queue)) { conn in
            amqp_basic_consume(conn, Self.dataChannel, queue, tag, 0, 0, consumer.exclusive ? 1 : 0, args) != nil
        }
    }

    func cancelConsumer(tag: String) throws(AMQPError) {
        guard let index = consumers.firstIndex(where: { $0.tag == tag }) else { return }
        let consumer = consumers.remove(at: index)
        defer { consumer.continuation.finish() }
        guard connection != nil else { return }
        scratch.reset()
        let tagBytes = scratch.bytes(tag)
        try rpc("basic.cancel", channel: Self.dataChannel) { conn in
            amqp_basic_cancel(conn, Self.dataChannel, tagBytes) != nil
        }
    }

    func acknowledge(_ delivery: AMQPDelivery, _ kind: AcknowledgementKind) throws(AMQPError) -> AcknowledgementResult {
        guard let conn = connection, delivery.channelEpoch == epoch else { return .staleDelivery }
        let status: Int32
        switch kind {
        case .ack: status = amqp_basic_ack(conn, Self.dataChannel, delivery.deliveryTag, 0)
        case let .nack(requeue): status = amqp_basic_nack(conn, Self.dataChannel, delivery.deliveryTag, 0, requeue ? 1 : 0)
        case let .reject(requeue): status = amqp_basic_reject(conn, Self.dataChannel, delivery.deliveryTag, requeue ? 1 : 0)
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            connectionLost("sending an acknowledgement: \(Self.describe(status))")
            throw .connectionLost(url: redactedURL, reason: "the acknowledgement could not be sent")
        }
        return .sent
    }

    func get(queue: String) throws(AMQPError) -> AMQPDelivery? {
        settleInbound()
        guard let conn = connection else { throw notConnected() }
        if let reason = blockState.blockedReason { throw .blockedByBroker(operation: "basic.get", reason: reason) }
        scratch.reset()
        let queueBytes = scratch.bytes(queue)
        let reply = amqp_basic_get(conn, Self.dataChannel, queueBytes, 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw failure(of: "basic.get", reply: reply, channel: Self.dataChannel, subject: ("queue", queue))
        }
        guard reply.reply.id == AMQP_BASIC_GET_OK_METHOD else { return nil }
        let ok = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        var delivery = AMQPDelivery(
            body: [], properties: AMQPProperties(), exchange: CDecode.string(ok.exchange),
            routingKey: CDecode.string(ok.routing_key), redelivered: ok.redelivered != 0, deliveryTag: ok.delivery_tag,
            consumerTag: nil, messageCount: ok.message_count, channelEpoch: epoch)
        var message = amqp_message_t()
        let read = amqp_read_message(conn, Self.dataChannel, &message, 0)
        guard read.reply_type == AMQP_RESPONSE_NORMAL else {
            throw failure(of: "basic.get content", reply: read, channel: Self.dataChannel, subject: ("queue", queue))
        }
        delivery.body = CDecode.bytes(message.body)
        withUnsafeMutablePointer(to: &message.properties) { delivery.properties = CDecode.properties(UnsafeMutableRawPointer($0)) }
        amqp_destroy_message(&message)
        lastInbound = .now
        return delivery
    }

    /// Closes gracefully (or, with `abrupt`, drops the socket without the AMQP close handshake) and stops.
    func shutDown(abrupt: Bool) {
        if abrupt, let conn = connection {
            watchdog.unwatch()
            amqp_destroy_connection(conn)
            connection = nil
            logger.notice("AMQP connection aborted")
        }
        shuttingDown = true
    }
}

/// How a delivery is settled.
enum AcknowledgementKind: Sendable {
    case ack
    case nack(requeue: Bool)
    case reject(requeue: Bool)
}

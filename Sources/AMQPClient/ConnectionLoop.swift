import ClientSupport
import CRabbitMQ
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A consumer as the connection thread knows it, so it can be re-registered after a reconnect.
struct ConsumerRegistration {
    let tag: String
    let queue: String
    let exclusive: Bool
    let arguments: AMQPTable
    let continuation: AsyncStream<AMQPDelivery>.Continuation
}

/// The state of one librabbitmq connection, confined to the one thread that runs `run()`.
///
/// The loop executes commands from its mailbox, reads every frame itself (deliveries, returns, confirms,
/// channel and connection closes), keeps heartbeats going while idle, and on loss reconnects with backoff,
/// replaying confirm mode, qos, the recorded topology and the consumers.
/// Channel 1 carries publishes (in confirm mode), consumers, `basic.get` and acks; channel 2 carries
/// declarations, so a refused declaration never disturbs publishing or consuming.
final class ConnectionLoop {
    static let dataChannel: amqp_channel_t = 1
    static let controlChannel: amqp_channel_t = 2

    let configuration: AMQPConfiguration
    let redactedURL: String
    let mailbox: CommandMailbox
    var logger: Logger
    let scratch = ScratchPool()
    /// Whether the broker blocks this connection's publishing; shared with `AMQPConnection`.
    let blockState: PublishingBlockState
    let watchdog: WriteWatchdog

    var connection: amqp_connection_state_t?
    var negotiatedHeartbeat = 0
    var lastInbound = ContinuousClock.now
    var shuttingDown = false
    var reconnectAttempt = 0
    /// The node of `configuration.url.servers` in use, or tried next.
    var serverIndex = 0
    var nextAttempt = ContinuousClock.now
    var lastLoss: AMQPError?

    /// Incremented whenever the data channel is replaced; deliveries of an older epoch are not acked.
    private(set) var epoch: UInt64 = 0
    var topology = TopologyRecord()
    var prefetch: UInt16 = 0
    var consumers: [ConsumerRegistration] = []
    var confirms = ConfirmTracker()
    var batchWaiters: [ConfirmTracker.BatchID: @Sendable (Result<[PublishOutcome], AMQPError>) -> Void] = [:]
    var nextBatch: ConfirmTracker.BatchID = 1
    /// Batches (or their rest) not yet written, in publish order: see `ConnectionLoop+Publishing`.
    var queuedPublishes: [QueuedPublish] = []
    var inbound: InboundContent?

    /// A message whose method frame has arrived and whose header and body frames are being collected.
    struct InboundContent {
        enum Kind {
            case delivery(consumerTag: String, deliveryTag: UInt64, redelivered: Bool)
            case returned(replyCode: Int, replyText: String)
        }

        var kind: Kind
        var exchange: String
        var routingKey: String
        var properties = AMQPProperties()
        var expectedSize = -1
        var body: [UInt8] = []
    }

    init(configuration: AMQPConfiguration, mailbox: CommandMailbox, blockState: PublishingBlockState, logger: Logger) {
        self.configuration = configuration
        self.redactedURL = configuration.url.redacted
        self.mailbox = mailbox
        self.blockState = blockState
        self.watchdog = WriteWatchdog(name: configuration.connectionName ?? "connection")
        var logger = logger
        logger[metadataKey: "amqp.url"] = .string(configuration.url.redacted)
        if let name = configuration.connectionName { logger[metadataKey: "amqp.connection"] = .string(name) }
        self.logger = logger
    }

    deinit {
        watchdog.unwatch()
        watchdog.stop()
        if let connection { amqp_destroy_connection(connection) }
    }

    // MARK: Thread body

    /// Connects, reports the first result, then serves until closed.
    func run(reportFirstConnect: (Result<Void, AMQPError>) -> Void) {
        do {
            try openAnyNode()
            reportFirstConnect(.success(()))
        } catch {
            reportFirstConnect(.failure(error))
            mailbox.close(with: .closed(url: redactedURL))
            return
        }
        logger.info("AMQP connection open", metadata: ["amqp.node": "\(server)"])
        while !shuttingDown {
            if connection != nil {
                serviceOnce()
            } else {
                reconnectStep()
            }
        }
        finish()
    }

    func serviceOnce() {
        if inbound == nil {
            for command in mailbox.drain() {
                // Round trips bound themselves (the RPC timeout); the watch bounds the plain writes (acks).
                watchWrites(for: configuration.operationTimeout + .seconds(2), while: "running a command")
                command.run(self)
                if shuttingDown {
                    watchdog.unwatch()
                    return
                }
            }
            watchdog.unwatch()
        }
        guard let conn = connection else { return }
        let buffered = amqp_frames_enqueued(conn) != 0 || amqp_data_in_buffer(conn) != 0
        var fds = [
            pollfd(fd: amqp_get_sockfd(conn), events: Int16(POLLIN), revents: 0),
            pollfd(fd: inbound == nil ? mailbox.wakeDescriptor : -1, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, 2, buffered ? 0 : 200)
        if ready > 0 && fds[0].revents != 0 { lastInbound = .now }
        // Reading may write too: heartbeats, rejects, and the reopening of a channel the broker closed.
        watchWrites(for: max(configuration.confirmTimeout, configuration.operationTimeout), while: "reading from the broker")
        readAvailableFrames()
        servicePublishing()
        watchdog.unwatch()
        if connection != nil, negotiatedHeartbeat > 0,
           ContinuousClock.now - lastInbound > .seconds(2 * negotiatedHeartbeat + 1) {
            connectionLost("no data or heartbeat from the broker for \(2 * negotiatedHeartbeat) s")
        }
    }

    func reconnectStep() {
        while !shuttingDown {
            let remaining = nextAttempt - ContinuousClock.now
            if remaining <= .zero { break }
            var fd = pollfd(fd: mailbox.wakeDescriptor, events: Int16(POLLIN), revents: 0)
            let ms = Self.milliseconds(min(remaining, .milliseconds(500))) + 1
            _ = poll(&fd, 1, ms)
            for command in mailbox.drain() {
                command.run(self)
            }
        }
        if shuttingDown { return }
        reconnectAttempt += 1
        do {
            try openAnyNode()
            logger.notice(
                "AMQP connection restored",
                metadata: [
                    "amqp.node": "\(server)",
                    "attempt": "\(reconnectAttempt)",
                    "topology.declarations": "\(topology.entries.count)",
                    "consumers": "\(consumers.count)",
                    "prefetch": "\(prefetch)",
                ])
            reconnectAttempt = 0
        } catch {
            let delay = configuration.reconnectBackoff.delay(attempt: reconnectAttempt, random: Double.random(in: 0...1))
            logger.warning(
                "AMQP reconnect failed",
                metadata: [
                    "attempt": "\(reconnectAttempt)", "error": "\(error)",
                    "retry.in.ms": "\(Self.milliseconds(delay))",
                ])
            nextAttempt = .now + delay
        }
    }

    func finish() {
        let error = AMQPError.closed(url: redactedURL)
        mailbox.close(with: error)
        watchdog.unwatch()
        if let conn = connection {
            if let reason = blockState.blockedReason {
                // A blocked connection's socket is not read: the close handshake would wait out two RPC
                // timeouts. Dropping the socket settles the same (the broker requeues unacked deliveries).
                logger.notice("AMQP connection closed without the handshake: the broker blocks it", metadata: ["reason": "\(reason)"])
            } else {
                _ = amqp_channel_close(conn, Self.dataChannel, AMQP_REPLY_SUCCESS)
                _ = amqp_connection_close(conn, AMQP_REPLY_SUCCESS)
            }
            amqp_destroy_connection(conn)
            connection = nil
        }
        failQueuedPublishes(error)
        complete(confirms.failAll(error))
        for (_, waiter) in batchWaiters { waiter(.failure(error)) }
        batchWaiters.removeAll()
        for consumer in consumers { consumer.continuation.finish() }
        consumers.removeAll()
        logger.info("AMQP connection closed")
    }

    // MARK: Opening

    /// The node in use, or tried next.
    var server: ServerAddress { configuration.url.servers[serverIndex] }

    /// Opens a connection to the current node, else to each further node in turn; credentials or a
    /// virtual host the broker refuses are the same on every node and fail at once.
    func openAnyNode() throws(AMQPError) {
        let nodes = configuration.url.servers.count
        for tried in 1...nodes {
            do {
                try open()
                return
            } catch {
                switch error {
                case .authenticationFailed, .virtualHostRefused: throw error
                default: break
                }
                guard tried < nodes else { throw error }
                logger.warning("AMQP node unreachable; trying the next", metadata: ["amqp.node": "\(server)", "error": "\(error)"])
                serverIndex = (serverIndex + 1) % nodes
            }
        }
    }

    func open() throws(AMQPError) {
        let url = configuration.url
        let server = self.server
        let node = url.servers.count > 1 ? "node \(server): " : ""
        guard let conn = amqp_new_connection() else {
            throw .connectionFailed(url: redactedURL, reason: "cannot allocate a connection")
        }
        var opened = false
        defer { if !opened { amqp_destroy_connection(conn) } }
        scratch.reset()
        let socket: OpaquePointer?
        if url.usesTLS {
            socket = amqp_ssl_socket_new(conn)
            guard let socket else { throw .connectionFailed(url: redactedURL, reason: "cannot create a TLS socket") }
            amqp_ssl_socket_set_verify_peer(socket, configuration.verifiesPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, configuration.verifiesPeer ? 1 : 0)
            if configuration.verifiesPeer {
                let bundle = configuration.caCertificateFile ?? getenv("SSL_CERT_FILE").map { String(cString: $0) }
                    ?? "/etc/ssl/certs/ca-certificates.crt"
                if amqp_ssl_socket_set_cacert(socket, scratch.cString(bundle)) != AMQP_STATUS_OK.rawValue {
                    throw .connectionFailed(url: redactedURL, reason: "cannot load CA certificates from \(bundle)")
                }
            }
        } else {
            socket = amqp_tcp_socket_new(conn)
            guard socket != nil else { throw .connectionFailed(url: redactedURL, reason: "cannot create a socket") }
        }
        var connectTimeout = Self.timeval(configuration.connectTimeout)
        let status = amqp_socket_open_noblock(socket, scratch.cString(server.host), Int32(server.port), &connectTimeout)
        if status != AMQP_STATUS_OK.rawValue {
            var reason = Self.describe(status)
            if status == AMQP_STATUS_SOCKET_ERROR.rawValue {
                reason = ConnectDiagnosis.reason(host: server.host, port: server.port) ?? reason
            } else if status == AMQP_STATUS_TIMEOUT.rawValue {
                reason = "no answer within \(configuration.connectTimeout)"
            } else if status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue {
                reason = "cannot resolve host '\(server.host)'"
            }
            throw .connectionFailed(url: redactedURL, reason: node + reason)
        }
        var operationTimeout = Self.timeval(configuration.operationTimeout)
        _ = amqp_set_handshake_timeout(conn, &operationTimeout)
        _ = amqp_set_rpc_timeout(conn, &operationTimeout)

        var properties: AMQPTable = [:]
        if let name = configuration.connectionName { properties["connection_name"] = .string(name) }
        // librabbitmq advertises only `authentication_failure_close` (it merges ours in): without this the
        // broker blocks the connection under an alarm without saying so, and publishes wait for nothing.
        properties["capabilities"] = .table(["connection.blocked": .bool(true)])
        var clientProperties = scratch.table(properties)
        let login = xz_amqp_login_plain_with_properties(
            conn, scratch.cString(url.virtualHost), 0, 131_072, Int32(configuration.heartbeatSeconds),
            &clientProperties, scratch.cString(url.user), scratch.cString(url.password))
        if login.reply_type != AMQP_RESPONSE_NORMAL {
            throw loginError(login)
        }
        negotiatedHeartbeat = Int(amqp_get_heartbeat(conn))
        connection = conn
        // A new connection starts unblocked; the broker blocks it again on its first publish if the alarm holds.
        blockState.set(nil)
        opened = true
        lastInbound = .now
        inbound = nil
        do {
            try openDataChannel()
            try rpc("channel.open", channel: Self.controlChannel) { conn in
                amqp_channel_open(conn, Self.controlChannel) != nil
            }
            for entry in topology.entries {
                try apply(entry)
            }
            for consumer in consumers {
                try startConsumer(consumer)
            }
        } catch {
            if let conn = connection {
                amqp_destroy_connection(conn)
                connection = nil
            }
            throw error
        }
    }

    func loginError(_ reply: amqp_rpc_reply_t) -> AMQPError {
        let url = configuration.url
        switch reply.reply_type {
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let text = CDecode.string(close.reply_text)
            switch close.reply_code {
            case 403 where text.contains("ogin"):
                return .authenticationFailed(url: redactedURL, user: url.user, reason: text)
            case 403, 530:
                return .virtualHostRefused(url: redactedURL, virtualHost: url.virtualHost, reason: text)
            default:
                return .connectionFailed(url: redactedURL, reason: "broker closed the connection: \(close.reply_code) \(text)")
            }
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let status = reply.library_error
            if status == AMQP_STATUS_CONNECTION_CLOSED.rawValue || status == AMQP_STATUS_SOCKET_CLOSED.rawValue {
                return .authenticationFailed(
                    url: redactedURL, user: url.user,
                    reason: "the broker closed the connection during login (wrong user or password?)")
            }
            if url.usesTLS && status == AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue
                || status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue
                || status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue {
                return .connectionFailed(url: redactedURL, reason: "TLS: \(Self.describe(status))")
            }
            return .connectionFailed(url: redactedURL, reason: "login failed: \(Self.describe(status))")
        default:
            return .connectionFailed(url: redactedURL, reason: "login failed")
        }
    }

    /// Opens channel 1 and restores confirm mode and qos on it; a new epoch begins.
    func openDataChannel() throws(AMQPError) {
        epoch += 1
        try rpc("channel.open", channel: Self.dataChannel) { conn in amqp_channel_open(conn, Self.dataChannel) != nil }
        try rpc("confirm.select", channel: Self.dataChannel) { conn in amqp_confirm_select(conn, Self.dataChannel) != nil }
        if prefetch > 0 {
            let count = prefetch
            try rpc("basic.qos", channel: Self.dataChannel) { conn in
                amqp_basic_qos(conn, Self.dataChannel, 0, count, 0) != nil
            }
        }
    }

    // MARK: Loss and recovery

    /// Drops the connection; pending confirms fail and the loop starts reconnecting.
    func connectionLost(_ reason: String) {
        guard let conn = connection else { return }
        watchdog.unwatch()
        // A socket the watchdog shut down fails with a plain socket error: say why it was shut down.
        let reason = watchdog.takeCut().map { "\(reason): \($0)" } ?? reason
        logger.warning("AMQP connection lost; reconnecting", metadata: ["reason": "\(reason)", "amqp.node": "\(server)"])
        amqp_destroy_connection(conn)
        connection = nil
        inbound = nil
        epoch += 1
        // The node may be the thing that failed: the next attempt goes to another one.
        serverIndex = (serverIndex + 1) % configuration.url.servers.count
        let error = AMQPError.connectionLost(url: redactedURL, reason: reason)
        lastLoss = error
        failQueuedPublishes(error)
        complete(confirms.failAll(error))
        if reconnectAttempt == 0 {
            nextAttempt = .now + configuration.reconnectBackoff.delay(attempt: 1, random: Double.random(in: 0...1))
        }
    }

    /// The broker closed `channel`: acknowledge, reopen it, and on the data channel restore consumers.
    func channelClosedByBroker(_ channel: amqp_channel_t, code: Int, text: String) {
        guard let conn = connection else { return }
        var ok = amqp_channel_close_ok_t(dummy: 0)
        guard amqp_send_method(conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) == AMQP_STATUS_OK.rawValue else {
            connectionLost("cannot acknowledge the close of channel \(channel)")
            return
        }
        if channel == Self.dataChannel {
            let error = AMQPError.channelClosed(operation: "publish", replyCode: code, replyText: text)
            lastLoss = error
            logger.warning("AMQP broker closed the data channel; reopening", metadata: ["reply": "\(code) \(text)"])
            inbound = nil
            failQueuedPublishes(error)
            complete(confirms.failAll(error))
            do {
                try openDataChannel()
                for consumer in consumers { try startConsumer(consumer) }
            } catch {
                connectionLost("cannot reopen the data channel: \(error)")
            }
        } else {
            do {
                try rpc("channel.open", channel: channel) { conn in amqp_channel_open(conn, channel) != nil }
            } catch {
                connectionLost("cannot reopen channel \(channel): \(error)")
            }
        }
    }

    // MARK: Frames

    /// Handles every frame that can be read without blocking.
    func readAvailableFrames() {
        var handled = 0
        while handled < 4096, readFrame(timeout: nil) {
            handled += 1
        }
    }

    /// Reads and handles one frame; `timeout` nil means only what is already available.
    /// Returns false when nothing arrived in time or the connection was lost.
    @discardableResult
    func readFrame(timeout: Duration?) -> Bool {
        guard let conn = connection else { return false }
        var frame = amqp_frame_t()
        var tv = timeout.map(Self.timeval) ?? Glibc.timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(conn, &frame, &tv)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return false }
        guard status == AMQP_STATUS_OK.rawValue else {
            connectionLost(Self.describe(status))
            return false
        }
        lastInbound = .now
        handle(frame)
        if let conn = connection, inbound == nil {
            amqp_maybe_release_buffers(conn)
        }
        return connection != nil
    }

    /// Finishes any content being received and handles frames the library queued during an RPC,
    /// so a following RPC on the data channel reads its own frames.
    func settleInbound() {
        let deadline = ContinuousClock.now + configuration.operationTimeout
        while let conn = connection, inbound != nil || amqp_frames_enqueued(conn) != 0 {
            if ContinuousClock.now > deadline {
                connectionLost("a message's content did not arrive within \(configuration.operationTimeout)")
                return
            }
            readFrame(timeout: .milliseconds(100))
        }
    }

    func handle(_ frame: amqp_frame_t) {
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            handleMethod(frame.payload.method, channel: frame.channel)
        case AMQP_FRAME_HEADER:
            guard var content = inbound, frame.channel == Self.dataChannel else { return }
            content.properties = CDecode.properties(frame.payload.properties.decoded)
            content.expectedSize = Int(frame.payload.properties.body_size)
            content.body.reserveCapacity(content.expectedSize)
            inbound = content
            if content.expectedSize == 0 { completeInbound() }
        case AMQP_FRAME_BODY:
            guard inbound != nil, frame.channel == Self.dataChannel else { return }
            let fragment = frame.payload.body_fragment
            if fragment.len > 0, let base = fragment.bytes {
                inbound!.body.append(contentsOf: UnsafeRawBufferPointer(start: base, count: fragment.len))
            }
            if inbound!.body.count >= inbound!.expectedSize { completeInbound() }
        default:
            break
        }
    }

    func handleMethod(_ method: amqp_method_t, channel: amqp_channel_t) {
        let decoded = method.decoded
        if channel == 0 {
            switch method.id {
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = decoded!.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let text = CDecode.string(close.reply_text)
                if let conn = connection {
                    var ok = amqp_connection_close_ok_t(dummy: 0)
                    _ = amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
                }
                connectionLost("broker closed the connection: \(close.reply_code) \(text)")
            case AMQP_CONNECTION_BLOCKED_METHOD:
                // Publishes wait in the queue from now on (the broker reads nothing more from this socket)
                // and complete unconfirmed at their deadline unless the broker unblocks first.
                let blocked = decoded!.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
                let reason = CDecode.string(blocked.reason)
                blockState.set(reason.isEmpty ? "no reason given" : reason)
                logger.warning(
                    "broker blocked publishing: \(reason)",
                    metadata: ["confirms.in.flight": "\(confirms.inFlight)", "queued.batches": "\(queuedPublishes.count)"])
            case AMQP_CONNECTION_UNBLOCKED_METHOD:
                blockState.set(nil)
                logger.notice("broker unblocked publishing", metadata: ["queued.batches": "\(queuedPublishes.count)"])
            default:
                break
            }
            return
        }
        switch method.id {
        case AMQP_BASIC_DELIVER_METHOD:
            let deliver = decoded!.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            inbound = InboundContent(
                kind: .delivery(
                    consumerTag: CDecode.string(deliver.consumer_tag), deliveryTag: deliver.delivery_tag,
                    redelivered: deliver.redelivered != 0),
                exchange: CDecode.string(deliver.exchange), routingKey: CDecode.string(deliver.routing_key))
        case AMQP_BASIC_RETURN_METHOD:
            let returned = decoded!.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            inbound = InboundContent(
                kind: .returned(replyCode: Int(returned.reply_code), replyText: CDecode.string(returned.reply_text)),
                exchange: CDecode.string(returned.exchange), routingKey: CDecode.string(returned.routing_key))
        case AMQP_BASIC_ACK_METHOD:
            let ack = decoded!.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            complete(confirms.ack(ack.delivery_tag, multiple: ack.multiple != 0))
        case AMQP_BASIC_NACK_METHOD:
            let nack = decoded!.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            complete(confirms.nack(nack.delivery_tag, multiple: nack.multiple != 0))
        case AMQP_BASIC_CANCEL_METHOD:
            let cancel = decoded!.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = CDecode.string(cancel.consumer_tag)
            if let index = consumers.firstIndex(where: { $0.tag == tag }) {
                let consumer = consumers.remove(at: index)
                logger.warning(
                    "AMQP broker cancelled a consumer (queue deleted?)",
                    metadata: ["queue": "\(consumer.queue)", "consumer": "\(tag)"])
                consumer.continuation.finish()
            }
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            channelClosedByBroker(channel, code: Int(close.reply_code), text: CDecode.string(close.reply_text))
        default:
            break
        }
    }

    func completeInbound() {
        guard let content = inbound else { return }
        inbound = nil
        switch content.kind {
        case let .delivery(consumerTag, deliveryTag, redelivered):
            let delivery = AMQPDelivery(
                body: content.body, properties: content.properties, exchange: content.exchange,
                routingKey: content.routingKey, redelivered: redelivered, deliveryTag: deliveryTag,
                consumerTag: consumerTag, messageCount: nil, channelEpoch: epoch)
            if let consumer = consumers.first(where: { $0.tag == consumerTag }) {
                consumer.continuation.yield(delivery)
            } else if let conn = connection {
                // A delivery that raced a cancel: hand it back so another consumer gets it.
                _ = amqp_basic_reject(conn, Self.dataChannel, deliveryTag, 1)
            }
        case let .returned(replyCode, replyText):
            confirms.returned(
                exchange: content.exchange, routingKey: content.routingKey, messageID: content.properties.messageID,
                replyCode: replyCode, replyText: replyText)
        }
    }

    func complete(_ completions: [ConfirmTracker.Completion]) {
        for completion in completions {
            batchWaiters.removeValue(forKey: completion.batch)?(.success(completion.outcomes))
        }
    }

    // MARK: RPC plumbing

    /// Runs a synchronous librabbitmq RPC; `call` returns false when the library reports a failure.
    /// A broker channel close becomes a typed error (the channel is reopened); anything else drops the connection.
    func rpc(
        _ operation: String, channel: amqp_channel_t, subject: (kind: String, name: String)? = nil,
        _ call: (amqp_connection_state_t) -> Bool
    ) throws(AMQPError) {
        guard let conn = connection else { throw notConnected() }
        // The answer would only come once the alarm clears: waiting out the RPC timeout would hold this
        // thread, and with it every confirm deadline, for nothing.
        if let reason = blockState.blockedReason { throw .blockedByBroker(operation: operation, reason: reason) }
        if call(conn) {
            // The reply (and any heartbeat read with it) came from the broker: the connection is alive.
            lastInbound = .now
            return
        }
        let reply = amqp_get_rpc_reply(conn)
        if reply.reply_type == AMQP_RESPONSE_NORMAL {
            lastInbound = .now
            return
        }
        throw failure(of: operation, reply: reply, channel: channel, subject: subject)
    }

    func failure(
        of operation: String, reply: amqp_rpc_reply_t, channel: amqp_channel_t, subject: (kind: String, name: String)?
    ) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let text = CDecode.string(close.reply_text)
            let code = Int(close.reply_code)
            channelClosedByBroker(channel, code: code, text: text)
            if let subject, code == 406 {
                return .declarationMismatch(kind: subject.kind, name: subject.name, brokerMessage: text)
            }
            if let subject, code == 404 {
                return .notFound(kind: subject.kind, name: subject.name, brokerMessage: text)
            }
            return .channelClosed(operation: operation, replyCode: code, replyText: text)
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let reason = "broker closed the connection during \(operation): \(close.reply_code) \(CDecode.string(close.reply_text))"
            if let conn = connection {
                var ok = amqp_connection_close_ok_t(dummy: 0)
                _ = amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            }
            connectionLost(reason)
            return .connectionLost(url: redactedURL, reason: reason)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            connectionLost("\(operation) timed out")
            return .timedOut(operation: operation)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let reason = "\(operation): \(Self.describe(reply.library_error))"
            connectionLost(reason)
            return .connectionLost(url: redactedURL, reason: reason)
        default:
            let reason = "\(operation): unexpected reply"
            connectionLost(reason)
            return .connectionLost(url: redactedURL, reason: reason)
        }
    }

    func notConnected() -> AMQPError {
        .connectionLost(url: redactedURL, reason: "not connected (reconnecting: \(lastLoss.map { "\($0)" } ?? "connection down"))")
    }

    static func describe(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}


import Synchronization
import WebSocket

/// One WebSocket session on an event loop: it drives the pure `WebSocketConnection` state machine from
/// socket events and executes its actions. Messages arrive on `events`, or at the handler given to
/// `onMessage`; the final close arrives on `events`. `send`, `ping` and `close` may be called from any
/// task or from the handler. The host's loops keep it alive until it closes.
public final class WebSocketSession: ConnectionHandler, @unchecked Sendable {
    private enum Phase {
        case clientHandshake(WebSocketClientHandshake)
        case serverHandshake(WebSocketServerHandshake)
        /// The upgrade request is read and held for the server's answer delay; bytes after it wait here.
        case serverAnswerDelayed(pending: [UInt8])
        /// The handshake is done; `machine` holds the connection's state.
        case open
        case closed
    }

    /// Messages, then one `.closed`.
    public let events: AsyncStream<SessionEvent>
    /// The peer's address as given (redacted for a client; host:port for a server).
    public let peer: String
    /// The role of this side.
    public let role: WebSocketRole
    let loop: EventLoop

    // Everything below is touched only on `loop`'s thread.
    private let eventSink: AsyncStream<SessionEvent>.Continuation
    private let configuration: WebSocketConnection.Configuration
    private let handshakeTimeout: Duration
    private var phase: Phase
    /// The open connection's state machine (nil before and after `.open`). Kept apart from `phase` so that
    /// events change it in place: taken out of an enum and put back, it would be copied each time.
    private var machine: WebSocketConnection?
    /// `machine.nextDeadline` as of the last event (read once per event, not per `scheduleTick`).
    private var machineDeadline: ContinuousClock.Instant?
    private var connection: Connection?
    private var handshakeTimer: LoopTimer?
    private var tickTimer: LoopTimer?
    private var tickDeadline: ContinuousClock.Instant?
    private var pongScanner = PongScanner()
    private var pendingPings: [(payload: [UInt8], sentAt: UInt64, waiter: CheckedContinuation<Duration, any Error>)] = []
    private var pingSequence: UInt64 = 0
    private var lastTransportError: TransportError?
    private var connectWaiter: CheckedContinuation<WebSocketSession, any Error>?
    private var onServerOpen: ((WebSocketSession, HTTPRequestHead) -> Void)?
    private var acceptRequest: ((HTTPRequestHead) -> Int?)?
    private var answerDelay: ((HTTPRequestHead) -> Duration)?
    private var answerTimer: LoopTimer?
    private var onFinished: (() -> Void)?
    private var messageHandler: (@Sendable (WebSocketSession, WebSocketMessage) -> Void)?
    /// Messages that arrived before the handler was set (delivery `.handler` only).
    private var messagesForHandler: [WebSocketMessage] = []
    private var holdsMessagesForHandler = false
    /// The payload bytes in `messagesForHandler`, their limit, and whether it was passed.
    private var heldBytes = 0
    private var maxHeldBytes = 16 << 20
    private var heldPastLimit = false
    private let openFlag = Atomic<Bool>(false)

    private init(loop: EventLoop, peer: String, role: WebSocketRole, phase: Phase,
                 configuration: WebSocketConnection.Configuration, handshakeTimeout: Duration) {
        self.loop = loop
        self.peer = peer
        self.role = role
        self.phase = phase
        self.configuration = configuration
        self.handshakeTimeout = handshakeTimeout
        (events, eventSink) = AsyncStream<SessionEvent>.makeStream(bufferingPolicy: .unbounded)
    }

    /// Whether the session is open (handshake done, not yet closed).
    public var isOpen: Bool { openFlag.load(ordering: .relaxed) }

    // MARK: Opening (loop thread)

    static func connectClient(url: WebSocketURL, options: SessionOptions, tls: TLSContext?, on loop: EventLoop,
                              waiter: CheckedContinuation<WebSocketSession, any Error>,
                              onFinished: @escaping () -> Void) -> WebSocketSession {
        let handshake = WebSocketClientHandshake(url: url, extraHeaders: options.headers)
        let session = WebSocketSession(loop: loop, peer: url.redacted, role: .client, phase: .clientHandshake(handshake),
                                       configuration: options.connection, handshakeTimeout: options.handshakeTimeout)
        session.connectWaiter = waiter
        session.onFinished = onFinished
        session.holdsMessagesForHandler = options.messageDelivery == .handler
        session.maxHeldBytes = options.maxHeldBytes
        let connection = Connection.connect(host: url.host, port: Int(url.port), tls: tls, timeouts: options.timeouts,
                                            on: loop, handler: session)
        connection.maxOutboundBytes = options.maxOutboundBytes
        if connection.state != .closed { session.connection = connection }
        return session
    }

    static func acceptServer(fd: Int32, peer: SocketAddress, options: ServerOptions, on loop: EventLoop,
                             accept: ((HTTPRequestHead) -> Int?)?,
                             onOpen: @escaping (WebSocketSession, HTTPRequestHead) -> Void,
                             onFinished: @escaping () -> Void) {
        let session = WebSocketSession(loop: loop, peer: peer.description, role: .server,
                                       phase: .serverHandshake(WebSocketServerHandshake()),
                                       configuration: options.connection, handshakeTimeout: options.handshakeTimeout)
        session.onServerOpen = onOpen
        session.acceptRequest = accept
        session.answerDelay = options.answerDelay
        session.onFinished = onFinished
        let connection = Connection.accepted(fd: fd, peer: peer, tls: options.tls,
                                             timeouts: ConnectTimeouts(tls: options.handshakeTimeout), on: loop, handler: session)
        connection.maxOutboundBytes = options.maxOutboundBytes
        if connection.state != .closed { session.connection = connection }
    }

    /// Whether this session's TLS handshake resumed an earlier session with its server.
    public func tlsSessionResumed() async -> Bool {
        await withCheckedContinuation { continuation in
            loop.execute { [self] in continuation.resume(returning: connection?.tlsResumed ?? false) }
        }
    }

    /// Abandons a connect in progress (task cancellation).
    func cancelConnect() {
        loop.execute { [self] in
            guard connectWaiter != nil else { return }
            failHandshake(.cancelled, transport: nil)
        }
    }

    func connectionDidOpen(_ connection: Connection) {
        if case .clientHandshake(let handshake) = phase { connection.write(handshake.requestBytes) }
        handshakeTimer = loop.schedule(after: handshakeTimeout) { [weak self] in
            guard let self else { return }
            self.handshakeTimedOut()
        }
    }

    private func handshakeTimedOut() {
        switch phase {
        case .clientHandshake:
            failHandshake(.handshakeTimeout(url: peer, after: handshakeTimeout), transport: .timeout(phase: .handshake, host: connection?.host ?? peer, port: connection?.port ?? 0))
        case .serverHandshake:
            failHandshake(.handshakeTimeout(url: peer, after: handshakeTimeout), transport: .timeout(phase: .handshake, host: connection?.host ?? peer, port: connection?.port ?? 0))
        case .serverAnswerDelayed, .open, .closed:
            break
        }
    }

    // MARK: Bytes in (loop thread)

    func connection(_ connection: Connection, didReceive bytes: UnsafeMutableRawBufferPointer) {
        switch phase {
        case .clientHandshake(var handshake):
            do {
                let progress = try handshake.receive(UnsafeRawBufferPointer(bytes))
                switch progress {
                case .needMoreBytes:
                    phase = .clientHandshake(handshake)
                case .upgraded(_, var remaining):
                    becomeOpen()
                    if let waiter = connectWaiter {
                        connectWaiter = nil
                        waiter.resume(returning: self)
                    }
                    if !remaining.isEmpty { remaining.withUnsafeMutableBytes { receiveOpen($0) } }
                }
            } catch {
                failHandshake(.handshake(error, url: peer), transport: nil)
            }
        case .serverHandshake(var handshake):
            do {
                switch try handshake.receive(UnsafeRawBufferPointer(bytes)) {
                case .needMoreBytes:
                    phase = .serverHandshake(handshake)
                case .request(let head, let remaining):
                    let key = try WebSocketServerHandshake.validate(head)
                    if let delay = answerDelay?(head), delay > .zero {
                        phase = .serverAnswerDelayed(pending: Array(remaining))
                        // The server chose to wait: its own handshake timeout no longer applies.
                        handshakeTimer?.cancel()
                        handshakeTimer = nil
                        answerTimer = loop.schedule(after: delay) { [self] in
                            answerTimer = nil
                            guard case .serverAnswerDelayed(let pending) = phase else { return }
                            answerUpgrade(head, key: key, remaining: pending, on: connection)
                        }
                        return
                    }
                    answerUpgrade(head, key: key, remaining: Array(remaining), on: connection)
                }
            } catch {
                switch error {
                case .invalidRequest(let status, _): refuse(status: status)
                default: refuse(status: 400)
                }
            }
        case .serverAnswerDelayed(let pending):
            phase = .serverAnswerDelayed(pending: pending + Array(UnsafeRawBufferPointer(bytes)))
        case .open:
            receiveOpen(bytes)
        case .closed:
            break
        }
    }

    /// Accepts or refuses a read upgrade request (the server side).
    private func answerUpgrade(_ head: HTTPRequestHead, key: String, remaining: [UInt8], on connection: Connection) {
        if let status = acceptRequest?(head) {
            refuse(status: status)
            return
        }
        connection.write(WebSocketServerHandshake.acceptResponse(forKey: key))
        becomeOpen()
        let open = onServerOpen
        onServerOpen = nil
        acceptRequest = nil
        open?(self, head)
        if !remaining.isEmpty {
            var bytes = remaining
            bytes.withUnsafeMutableBytes { receiveOpen($0) }
        }
    }

    /// The bytes may be changed in place (masked payloads are unmasked where they lie).
    private func receiveOpen(_ bytes: UnsafeMutableRawBufferPointer) {
        guard case .open = phase else { return }
        if role == .client && !pendingPings.isEmpty {
            pongScanner.scan(UnsafeRawBufferPointer(bytes)) { payload in pongArrived(payload) }
        } else if role == .client {
            pongScanner.scan(UnsafeRawBufferPointer(bytes)) { _ in }
        }
        advance { $0.bytesReceived(bytes, now: .now) }
    }

    private func pongArrived(_ payload: [UInt8]) {
        guard let index = pendingPings.firstIndex(where: { $0.payload == payload }) else { return }
        let entry = pendingPings.remove(at: index)
        let nanos = monotonicNanos() &- entry.sentAt
        entry.waiter.resume(returning: .nanoseconds(Int64(nanos)))
    }

    private func becomeOpen() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        let opened = WebSocketConnection(role: role, configuration: configuration, now: .now)
        machineDeadline = opened.nextDeadline
        machine = opened
        phase = .open
        openFlag.store(true, ordering: .relaxed)
        scheduleTick()
    }

    private func refuse(status: Int) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        phase = .closed
        connection?.write(WebSocketServerHandshake.errorResponse(status: status))
        connection?.closeWhenFlushed()
        connection = nil
        finishStream(WebSocketCloseInfo(code: .abnormalClosure, reason: "handshake refused with HTTP \(status)", initiator: .local), transport: nil)
    }

    // MARK: Actions (loop thread)

    /// Hands `event` the open state machine, changed in place, and runs the actions it returns; false
    /// when the session is not open.
    @discardableResult
    private func advance(_ event: (inout WebSocketConnection) -> [WebSocketConnection.Action]) -> Bool {
        guard case .open = phase, machine != nil else { return false }
        let actions = event(&machine!)
        machineDeadline = machine!.nextDeadline
        run(actions)
        return true
    }

    private func run(_ actions: [WebSocketConnection.Action]) {
        for action in actions {
            switch action {
            case .write(let bytes):
                connection?.write(bytes)
            case .deliver(let message):
                if let messageHandler {
                    messageHandler(self, message)
                } else if holdsMessagesForHandler {
                    hold(message)
                } else {
                    eventSink.yield(.message(message))
                }
            case .closed(let info):
                phase = .closed
                machine = nil
                machineDeadline = nil
                openFlag.store(false, ordering: .relaxed)
                connection?.closeWhenFlushed()
                connection = nil
                finishStream(info, transport: lastTransportError)
            }
        }
        scheduleTick()
    }

    /// Keeps `message` for the handler to come. Past `maxHeldBytes` the session is closed with 1008 and what
    /// arrives after is dropped: a peer cannot grow a session that nobody reads yet without bound.
    private func hold(_ message: WebSocketMessage) {
        guard !heldPastLimit else { return }
        switch message {
        case .text(let text): heldBytes += text.utf8.count
        case .binary(let bytes): heldBytes += bytes.count
        }
        guard heldBytes <= maxHeldBytes else {
            heldPastLimit = true
            advance { $0.close(code: .policyViolation, reason: "over \(maxHeldBytes) bytes of messages before a handler was set", now: .now) }
            return
        }
        messagesForHandler.append(message)
    }

    private func scheduleTick() {
        guard case .open = phase, let deadline = machineDeadline else {
            tickTimer?.cancel()
            tickTimer = nil
            tickDeadline = nil
            return
        }
        if let current = tickDeadline, tickTimer != nil, current <= deadline { return }
        tickTimer?.cancel()
        tickDeadline = deadline
        let delay = max(.zero, ContinuousClock.now.duration(to: deadline))
        tickTimer = loop.schedule(after: delay) { [weak self] in
            guard let self else { return }
            self.tickTimer = nil
            self.tickDeadline = nil
            self.tick()
        }
    }

    private func tick() {
        guard case .open = phase else { return }
        if let connection, connection.pendingWriteBytes > 0,
           let silence = configuration.silenceTimeout,
           monotonicNanos() &- connection.lastWriteProgress > silence.nanoseconds {
            // The peer has not taken a byte for the silence timeout: it stopped reading.
            lastTransportError = .timeout(phase: .write, host: connection.host, port: connection.port)
            advance { $0.connectionEnded() }
            return
        }
        advance { $0.tick(now: .now) }
    }

    // MARK: Transport end (loop thread)

    func connection(_ connection: Connection, didCloseWith error: TransportError?) {
        self.connection = nil
        switch phase {
        case .clientHandshake, .serverHandshake, .serverAnswerDelayed:
            let transport = error ?? .reset(host: connection.host, port: connection.port, during: connection.state == .closed && handshakeTimer != nil ? .handshake : nil)
            failHandshake(.transport(transport, url: peer), transport: transport)
        case .open:
            lastTransportError = error
            advance { $0.connectionEnded() }
        case .closed:
            break
        }
    }

    private func failHandshake(_ error: SessionError, transport: TransportError?) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        // A client giving up before the answer resets the connection: a server still holding the upgrade
        // request then finds it gone, not half-closed, and does not admit a session nobody will use.
        let abandonsRequest = if case .clientHandshake = phase { error.abandonsHandshake } else { false }
        phase = .closed
        if abandonsRequest { connection?.closeWithReset() } else { connection?.close() }
        connection = nil
        let waiter = connectWaiter
        connectWaiter = nil
        onServerOpen = nil
        acceptRequest = nil
        finishStream(WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .transport, error: .connectionLost), transport: transport)
        waiter?.resume(throwing: error)
    }

    private func finishStream(_ info: WebSocketCloseInfo, transport: TransportError?) {
        tickTimer?.cancel()
        tickTimer = nil
        for entry in pendingPings { entry.waiter.resume(throwing: SessionError.closed(info)) }
        pendingPings.removeAll()
        // The host's bookkeeping first, so that whoever sees the close also sees the session gone.
        let finished = onFinished
        onFinished = nil
        finished?()
        eventSink.yield(.closed(info, transportError: transport))
        eventSink.finish()
    }

    // MARK: API (any thread)

    /// From now on, hands each message to `handler` on the session's loop thread instead of `events`
    /// (messages held for it, with delivery `.handler`, first). The handler must not block: it runs
    /// between the socket events of every session on the loop. A server sets it in its `onSession`
    /// callback (which runs on the loop) to get every message; `send` from the handler writes at once.
    public func onMessage(_ handler: @escaping @Sendable (WebSocketSession, WebSocketMessage) -> Void) {
        loop.executeOrRun { [self] in
            messageHandler = handler
            holdsMessagesForHandler = false
            let held = messagesForHandler
            messagesForHandler = []
            heldBytes = 0
            for message in held { handler(self, message) }
        }
    }

    /// Sends a text message; ignored once the session is closing (the close shows on `events`).
    public func send(text: String) { send(.text(text)) }

    /// Sends a binary message; ignored once the session is closing.
    public func send(binary: [UInt8]) { send(.binary(binary)) }

    /// Sends a message; ignored once the session is closing.
    public func send(_ message: WebSocketMessage) {
        if loop.inLoop {
            advance { (try? $0.send(message)) ?? [] }
        } else {
            loop.execute { [self] in advance { (try? $0.send(message)) ?? [] } }
        }
    }

    /// Sends a ping and waits for its pong: the round trip. Fails when the session closes first.
    public func ping() async throws(SessionError) -> Duration {
        do {
            return try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Duration, any Error>) in
                loop.execute { [self] in
                    guard case .open = phase, role == .client else {
                        waiter.resume(throwing: SessionError.closed(WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .local, error: .notOpen)))
                        return
                    }
                    pingSequence &+= 1
                    // A high first byte keeps these apart from the state machine's own keepalive pings.
                    let payload = [0xFE] + withUnsafeBytes(of: pingSequence.bigEndian) { Array($0) }
                    pendingPings.append((payload, monotonicNanos(), waiter))
                    advance { $0.ping(payload) }
                }
            }
        } catch let error as SessionError {
            throw error
        } catch {
            throw .cancelled
        }
    }

    /// Starts the close handshake; the final `.closed` arrives on `events`.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") {
        loop.execute { [self] in
            switch phase {
            case .open:
                advance { $0.close(code: code, reason: reason, now: .now) }
            case .clientHandshake, .serverHandshake, .serverAnswerDelayed:
                failHandshake(.cancelled, transport: nil)
            case .closed:
                break
            }
        }
    }

    /// Waits for the session to end and returns how it ended (consumes `events`; use one or the other).
    public func waitUntilClosed() async -> (WebSocketCloseInfo, TransportError?) {
        for await event in events {
            if case .closed(let info, let transport) = event { return (info, transport) }
        }
        return (WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .transport, error: .connectionLost), nil)
    }
}

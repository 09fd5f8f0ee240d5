/// The life of one established WebSocket connection as a value-type state machine, free of I/O.
///
/// The I/O shell feeds it events (bytes received, messages to send, timer ticks, the transport ending) and
/// executes the actions it returns, in order: `write` bytes to the socket, `deliver` messages to the
/// application, and on `closed` flush pending writes and close the socket. It answers pings, reassembles
/// fragments (control frames may interleave), validates text as UTF-8 across fragments, enforces the size
/// limits, runs the close handshake, sends a ping every `pingInterval` and fails the connection when the peer
/// stays silent for `silenceTimeout`. The opening handshake happens before: feed any bytes that followed the
/// handshake response as the first `bytesReceived`.
public struct WebSocketConnection: Sendable {
    /// Limits and timers.
    public struct Configuration: Sendable, Hashable {
        /// The largest payload a single frame may declare (larger: close 1009).
        public var maxFrameSize: Int
        /// The largest reassembled message (larger: close 1009).
        public var maxMessageSize: Int
        /// How often to send a ping; nil sends none.
        public var pingInterval: Duration?
        /// How long the peer may send nothing at all before the connection is failed; nil waits forever.
        public var silenceTimeout: Duration?
        /// How long to wait for the peer's close frame after sending ours.
        public var closeTimeout: Duration

        public init(
            maxFrameSize: Int = 1 << 20,
            maxMessageSize: Int = 1 << 20,
            pingInterval: Duration? = .seconds(25),
            silenceTimeout: Duration? = .seconds(60),
            closeTimeout: Duration = .seconds(5)
        ) {
            self.maxFrameSize = maxFrameSize
            self.maxMessageSize = maxMessageSize
            self.pingInterval = pingInterval
            self.silenceTimeout = silenceTimeout
            self.closeTimeout = closeTimeout
        }
    }

    /// What the I/O shell must do, in order.
    public enum Action: Sendable, Hashable {
        /// Write these bytes to the peer.
        case write([UInt8])
        /// Hand a complete message to the application.
        case deliver(WebSocketMessage)
        /// The connection is over: flush pending writes, then close the socket. Reported exactly once.
        case closed(WebSocketCloseInfo)
    }

    /// Where the connection stands.
    public enum State: Sendable, Hashable {
        case open
        /// We sent a close frame and wait for the peer's.
        case closing
        case closed
    }

    public let role: WebSocketRole
    public let configuration: Configuration
    public private(set) var state: State = .open

    private var decoder: WebSocketFrameDecoder
    private var assembler: WebSocketMessageAssembler
    /// Client masking keys (a server never masks).
    private var maskingKeys = WebSocketMaskingKeyBlock()
    // Times as fixed-layout readings: see `ClockReading`.
    private var lastReceivedAt: ClockReading
    private var nextPingAt: ClockReading?
    private var closeDeadline: ClockReading?
    private var localClose: (code: WebSocketCloseCode, reason: String)?
    private var pingCounter: UInt64 = 0

    /// A connection whose opening handshake completed at `now`.
    public init(role: WebSocketRole, configuration: Configuration = Configuration(), now: ContinuousClock.Instant) {
        self.role = role
        self.configuration = configuration
        decoder = WebSocketFrameDecoder(role: role, maxFramePayloadSize: configuration.maxFrameSize)
        assembler = WebSocketMessageAssembler(maxMessageSize: configuration.maxMessageSize)
        let reading = ClockReading(now)
        lastReceivedAt = reading
        nextPingAt = configuration.pingInterval.map { reading.advanced(by: $0) }
    }

    /// When `tick` next has something to do (a ping, the silence deadline, the close timeout); nil when closed.
    public var nextDeadline: ContinuousClock.Instant? { nextDeadlineReading?.instant }

    /// `nextDeadline` as a reading.
    var nextDeadlineReading: ClockReading? {
        switch state {
        case .closed: return nil
        case .closing: return closeDeadline
        case .open:
            let silence = configuration.silenceTimeout.map { lastReceivedAt.advanced(by: $0) }
            switch (nextPingAt, silence) {
            case (let ping?, let silence?): return min(ping, silence)
            case (let ping?, nil): return ping
            case (nil, let silence?): return silence
            case (nil, nil): return nil
            }
        }
    }

    // MARK: Events

    /// Bytes arrived from the peer at `now`.
    public mutating func bytesReceived(_ bytes: UnsafeRawBufferPointer, now: ContinuousClock.Instant) -> [Action] {
        guard state != .closed else { return [] }
        if !bytes.isEmpty { lastReceivedAt = ClockReading(now) }
        decoder.append(bytes)
        return processFrames { decoder, body throws(WebSocketProtocolError) in try decoder.decodeBuffered(body) }
    }

    /// Bytes arrived from the peer at `now`, in memory the machine may change: frames are read where they
    /// lie (masked payloads unmasked in place), without first being copied into the machine's buffer.
    public mutating func bytesReceived(_ bytes: UnsafeMutableRawBufferPointer, now: ContinuousClock.Instant) -> [Action] {
        guard state != .closed else { return [] }
        if !bytes.isEmpty { lastReceivedAt = ClockReading(now) }
        return processFrames { decoder, body throws(WebSocketProtocolError) in try decoder.decode(bytes, body) }
    }

    /// Bytes arrived from the peer at `now`.
    public mutating func bytesReceived(_ bytes: [UInt8], now: ContinuousClock.Instant) -> [Action] {
        bytes.withUnsafeBytes { bytesReceived($0, now: now) }
    }

    /// Sends a message as a single frame; refused once the close handshake has begun.
    public mutating func send(_ message: WebSocketMessage) throws(WebSocketConnectionError) -> [Action] {
        guard state == .open else { throw .notOpen }
        switch message {
        case .text(var text): return [.write(text.withUTF8 { encode(.text, UnsafeRawBufferPointer($0)) })]
        case .binary(let bytes): return [.write(bytes.withUnsafeBytes { encode(.binary, $0) })]
        }
    }

    /// Sends a text message.
    public mutating func sendText(_ text: String) throws(WebSocketConnectionError) -> [Action] {
        try send(.text(text))
    }

    /// Sends a binary message.
    public mutating func sendBinary(_ bytes: [UInt8]) throws(WebSocketConnectionError) -> [Action] {
        try send(.binary(bytes))
    }

    /// Sends a ping now (at most 125 bytes of payload are kept); nothing once closing.
    public mutating func ping(_ payload: [UInt8] = []) -> [Action] {
        guard state == .open else { return [] }
        return [.write(encode(.ping(Array(payload.prefix(125)))))]
    }

    /// Starts the close handshake. A code that may not be sent (1005, 1006, 1015, out of range) is sent as 1000;
    /// the reason is cut to fit a control frame. Nothing happens once closing.
    public mutating func close(
        code: WebSocketCloseCode = .normalClosure, reason: String = "", now: ContinuousClock.Instant
    ) -> [Action] {
        guard state == .open else { return [] }
        let sentCode = code.isValidOnTheWire ? code : .normalClosure
        let frame = WebSocketFrame.close(code: sentCode, reason: reason)
        let sentReason = String(decoding: frame.payload.dropFirst(2), as: UTF8.self)
        state = .closing
        localClose = (sentCode, sentReason)
        closeDeadline = ClockReading(now).advanced(by: configuration.closeTimeout)
        return [.write(encode(frame))]
    }

    /// Time passed: sends the periodic ping, and fails the connection on silence or an unanswered close.
    public mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        let now = ClockReading(now)
        switch state {
        case .closed:
            return []
        case .closing:
            guard let closeDeadline, now >= closeDeadline else { return [] }
            let sent = localClose ?? (.normalClosure, "")
            return finish(
                WebSocketCloseInfo(
                    code: sent.code, reason: sent.reason, initiator: .local,
                    error: .closeHandshakeTimedOut(timeout: configuration.closeTimeout)))
        case .open:
            if let silence = configuration.silenceTimeout, now >= lastReceivedAt.advanced(by: silence) {
                return finish(
                    WebSocketCloseInfo(
                        code: .abnormalClosure, reason: "", initiator: .transport, error: .peerSilent(timeout: silence)))
            }
            guard let interval = configuration.pingInterval, let due = nextPingAt, now >= due else { return [] }
            nextPingAt = now.advanced(by: interval)
            pingCounter &+= 1
            let payload = withUnsafeBytes(of: pingCounter.bigEndian) { Array($0) }
            return [.write(encode(.ping(payload)))]
        }
    }

    /// The transport ended (EOF or error). Reports `closed`, with `connectionLost` unless we were only waiting
    /// for the transport to end after our close went unanswered.
    public mutating func connectionEnded() -> [Action] {
        switch state {
        case .closed:
            return []
        case .closing:
            let sent = localClose ?? (.normalClosure, "")
            return finish(WebSocketCloseInfo(code: sent.code, reason: sent.reason, initiator: .local, error: .connectionLost))
        case .open:
            return finish(WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .transport, error: .connectionLost))
        }
    }

    // MARK: Frames

    /// The wire bytes of `frame`: masked with the next key for a client, unmasked for a server.
    private mutating func encode(_ frame: WebSocketFrame) -> [UInt8] {
        WebSocketFrameEncoder.encode(frame, maskingKey: role == .client ? maskingKeys.next() : nil)
    }

    /// The wire bytes of one final frame of `opcode` carrying `payload`.
    private mutating func encode(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) -> [UInt8] {
        WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, maskingKey: role == .client ? maskingKeys.next() : nil)
    }

    /// Runs `decode` (one of the decoder's passes) and handles every frame it hands out, until the
    /// connection closes. The decoder is moved out for the pass, so that its buffer is changed in place.
    private mutating func processFrames(
        _ decode: (inout WebSocketFrameDecoder, (WebSocketFrameView) -> Bool) throws(WebSocketProtocolError) -> Void
    ) -> [Action] {
        var actions: [Action] = []
        var decoder = self.decoder
        self.decoder = WebSocketFrameDecoder(role: role, maxFramePayloadSize: configuration.maxFrameSize)
        do {
            try decode(&decoder) { frame in
                handle(frame, into: &actions)
                return state != .closed
            }
        } catch {
            actions += fail(error)
        }
        self.decoder = decoder
        return actions
    }

    private mutating func handle(_ frame: WebSocketFrameView, into actions: inout [Action]) {
        switch frame.opcode {
        case .ping:
            if state == .open { actions.append(.write(encode(.pong, frame.payload))) }
        case .pong:
            break
        case .close:
            actions += receiveClose(Array(frame.payload))
        case .text, .binary, .continuation:
            do {
                guard let message = try assembler.receive(frame) else { return }
                // After our close frame went out, data is read (to find the peer's close) but not delivered.
                if state == .open { actions.append(.deliver(message)) }
            } catch {
                actions += fail(error)
            }
        }
    }

    private mutating func receiveClose(_ payload: [UInt8]) -> [Action] {
        var code = WebSocketCloseCode.noStatusReceived
        var reason = ""
        if payload.count == 1 { return fail(.closePayloadTooShort) }
        if payload.count >= 2 {
            code = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
            guard code.isValidOnTheWire else { return fail(.invalidCloseCode(code.rawValue)) }
            let reasonBytes = Array(payload[2...])
            guard UTF8Validator.isValid(reasonBytes) else { return fail(.invalidUTF8InCloseReason) }
            reason = String(decoding: reasonBytes, as: UTF8.self)
        }
        switch state {
        case .open:
            // Echo the peer's code (an empty close is answered with an empty close), then we are done.
            let echo = WebSocketFrame.close(code: payload.isEmpty ? nil : code)
            return [.write(encode(echo))]
                + finish(WebSocketCloseInfo(code: code, reason: reason, initiator: .peer))
        case .closing:
            let sent = localClose ?? (.normalClosure, "")
            return finish(WebSocketCloseInfo(code: sent.code, reason: sent.reason, initiator: .local))
        case .closed:
            return []
        }
    }

    /// Fails the connection: our close frame with the error's code (unless one already went out), then closed.
    private mutating func fail(_ error: WebSocketProtocolError) -> [Action] {
        var actions: [Action] = []
        let code = error.closeCode
        let reason = error.description
        if state == .open {
            actions.append(.write(encode(.close(code: code, reason: reason))))
        }
        let info: WebSocketCloseInfo
        if state == .closing, let sent = localClose {
            info = WebSocketCloseInfo(code: sent.code, reason: sent.reason, initiator: .local, error: .protocolViolation(error))
        } else {
            info = WebSocketCloseInfo(code: code, reason: reason, initiator: .local, error: .protocolViolation(error))
        }
        return actions + finish(info)
    }

    private mutating func finish(_ info: WebSocketCloseInfo) -> [Action] {
        state = .closed
        nextPingAt = nil
        closeDeadline = nil
        return [.closed(info)]
    }
}

import Glibc
import WebSocket

/// One accepted connection of an `HTTPServer`, on its event loop: reads one request through the pure
/// `HTTPRequestReader`, runs the handler in a task, writes its answer non-blocking, then closes.
/// Everything here is touched only on `loop`'s thread, apart from `init`.
final class HTTPServerConnection: EventHandler, @unchecked Sendable {
    private enum Phase: Equatable {
        /// The request is coming in (`reader` holds it).
        case reading
        /// The handler has the request; `headOnly` for HEAD.
        case awaitingAnswer(headOnly: Bool)
        /// A stream's head is out and its producer runs.
        case streaming
        /// The last bytes are queued; once they are out, the write side shuts.
        case finishing
        /// Our side is shut; the client's remaining bytes are read and dropped until it closes, so that closing
        /// with them unread does not reset the connection and destroy the answer before the client reads it.
        case lingering
        case closed
    }

    /// How long, and for how many bytes, a finished connection waits for the client to close first.
    private static let lingerTimeout: Duration = .seconds(2)
    private static let lingerLimitBytes = 1 << 20

    let loop: EventLoop
    private let channel: ByteChannel
    private let limits: HTTPServerLimits
    private let handler: @Sendable (HTTPRequest) async -> HTTPReply
    private var onClosed: (() -> Void)?
    /// Whether the connection still holds its slot once its request is complete (false: it gave way).
    private let claim: @Sendable () -> Bool
    private var phase = Phase.reading
    /// Kept outside `phase` so that bytes are added in place, not to a copy; nil once it has decided.
    private var reader: HTTPRequestReader?
    /// The one deadline of the current phase: the request, the answer, the flush or the linger.
    private var timer: LoopTimer?
    private var registered = false
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var writer: HTTPBodyWriter?
    private var producer: Task<Void, Never>?
    private var lingered = 0

    init(fd: Int32, peer: SocketAddress, loop: EventLoop, limits: HTTPServerLimits,
         handler: @escaping @Sendable (HTTPRequest) async -> HTTPReply, claim: @escaping @Sendable () -> Bool,
         onClosed: @escaping () -> Void) {
        self.claim = claim
        self.loop = loop
        self.channel = ByteChannel(fd: fd, peerHost: peer.host, peerPort: peer.port)
        self.limits = limits
        self.handler = handler
        self.onClosed = onClosed
        self.reader = HTTPRequestReader(limits: limits)
    }

    private var pendingBytes: Int { outbound.count - outboundStart }

    /// Registers the socket and starts the request's clock (loop thread).
    func start() {
        guard phase == .reading, !registered else { return }
        Socket.setNoDelay(channel.fd)
        do {
            try loop.register(channel.fd, handler: self, readable: true, writable: false)
            registered = true
        } catch {
            close()
            return
        }
        timer = loop.schedule(after: limits.requestTimeout) { [weak self] in
            guard let self, self.phase == .reading else { return }
            self.timer = nil
            self.finish(with: HTTPResponseEncoder.refusal(status: 408, reason: "request not complete in time"))
        }
    }

    // MARK: Reading

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        if writable && pendingBytes > 0 { flush() }
        if phase != .closed && (readable || hangup) { readAvailable() }
    }

    private func readAvailable() {
        let buffer = loop.readBuffer
        while phase != .closed {
            switch channel.read(buffer.baseAddress!, buffer.count) {
            case .transferred(let count):
                received(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
                // A short read drained the socket; epoll is level-triggered, so more bytes wake us again.
                if count < buffer.count { return }
            case .wouldBlock:
                return
            case .endOfStream, .failed:
                // The client closed or reset: whatever was under way has nobody to go to. (A client that only
                // shuts its sending side after the request is taken as gone too; HTTP clients do not.)
                close()
                return
            }
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .reading:
            switch reader?.read(bytes) {
            case .needMoreBytes, nil:
                break
            case .sendContinue:
                send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            case .request(let head, let body):
                reader = nil
                dispatch(HTTPRequest(head: head, body: body, peerHost: channel.peerHost))
            case .refusal(let status, let reason):
                reader = nil
                finish(with: HTTPResponseEncoder.refusal(status: status, reason: reason))
            }
        case .lingering:
            lingered += bytes.count
            if lingered > Self.lingerLimitBytes { close() }
        case .awaitingAnswer, .streaming, .finishing, .closed:
            // Bytes after the request: one request a connection, so they are dropped.
            break
        }
    }

    // MARK: Answering

    private func dispatch(_ request: HTTPRequest) {
        guard claim() else {
            close()
            return
        }
        timer?.cancel()
        phase = .awaitingAnswer(headOnly: request.head.method == "HEAD")
        updateInterest()
        timer = loop.schedule(after: limits.responseTimeout) { [weak self] in
            guard let self, case .awaitingAnswer = self.phase else { return }
            self.timer = nil
            self.finish(with: HTTPResponseEncoder.refusal(status: 503, reason: "no answer in time"))
        }
        let handler = self.handler
        let loop = self.loop
        Task {
            let reply = await handler(request)
            loop.execute { [self] in answered(reply) }
        }
    }

    /// The handler's answer; dropped when it comes after the 503 or after the client went away.
    private func answered(_ reply: HTTPReply) {
        guard case .awaitingAnswer(let headOnly) = phase else { return }
        switch reply {
        case .response(let response):
            finish(with: HTTPResponseEncoder.encode(response, headOnly: headOnly))
        case .stream(let status, let headers, _) where headOnly:
            finish(with: HTTPResponseEncoder.streamHead(status: status, headers: headers))
        case .stream(let status, let headers, let produce):
            startStream(HTTPResponseEncoder.streamHead(status: status, headers: headers), produce: produce)
        }
    }

    private func startStream(_ head: [UInt8], produce: @escaping @Sendable (HTTPBodyWriter) async -> Void) {
        timer?.cancel()
        timer = nil
        phase = .streaming
        let loop = self.loop
        // The writer and the producer hold the connection until they end; once closed, it is only memory.
        let writer = HTTPBodyWriter(limit: limits.maxStreamBufferedBytes) { [self] in
            loop.execute { [self] in streamBytesQueued() }
        }
        self.writer = writer
        send(head)
        guard phase == .streaming else { return }
        producer = Task { [self] in
            await produce(writer)
            loop.execute { [self] in producerReturned() }
        }
    }

    private func streamBytesQueued() {
        guard phase == .streaming, let writer else { return }
        let (bytes, overflowed) = writer.take()
        // The client is not reading: its unsent bytes passed the limit.
        guard !overflowed else { return close() }
        send(bytes)
        writer.setInFlight(pendingBytes)
    }

    private func producerReturned() {
        guard phase == .streaming, let writer else { return }
        let (bytes, overflowed) = writer.take()
        writer.close()
        guard !overflowed else { return close() }
        finish(with: bytes)
    }

    // MARK: Writing

    /// Queues the last bytes of the connection; it shuts once they are out, or closes after the write timeout.
    private func finish(with bytes: [UInt8]) {
        timer?.cancel()
        phase = .finishing
        timer = loop.schedule(after: limits.writeTimeout) { [weak self] in
            guard let self, self.phase == .finishing else { return }
            self.timer = nil
            self.close()
        }
        send(bytes)
        if phase == .finishing && pendingBytes == 0 { linger() }
    }

    /// Queues bytes and writes what the socket takes now.
    private func send(_ bytes: [UInt8]) {
        guard phase != .closed, !bytes.isEmpty else { return }
        if pendingBytes == 0 {
            outbound = bytes
            outboundStart = 0
        } else {
            // A stream's buffer may never empty completely: drop the sent front now and then so it cannot grow.
            if outboundStart >= 64 * 1024 && outboundStart * 2 >= outbound.count {
                outbound.removeFirst(outboundStart)
                outboundStart = 0
            }
            outbound.append(contentsOf: bytes)
        }
        flush()
    }

    private func flush() {
        while pendingBytes > 0 {
            let result = outbound.withUnsafeBytes { whole in
                channel.write(whole.baseAddress! + outboundStart, pendingBytes)
            }
            switch result {
            case .transferred(let count):
                outboundStart += count
            case .wouldBlock:
                updateInterest()
                return
            case .endOfStream, .failed:
                close()
                return
            }
        }
        outbound = []
        outboundStart = 0
        writer?.setInFlight(0)
        if phase == .finishing {
            linger()
        } else {
            updateInterest()
        }
    }

    // MARK: Closing

    private func linger() {
        timer?.cancel()
        phase = .lingering
        _ = shutdown(channel.fd, Int32(SHUT_WR))
        updateInterest()
        timer = loop.schedule(after: Self.lingerTimeout) { [weak self] in
            self?.timer = nil
            self?.close()
        }
    }

    /// Reads only while a request comes in or while lingering: otherwise a client's extra bytes wait in the
    /// socket (TCP slows it down), and its close still wakes us as a hangup.
    private func updateInterest() {
        guard registered else { return }
        loop.setInterest(channel.fd, readable: phase == .reading || phase == .lingering, writable: pendingBytes > 0)
    }

    /// Closes now (any phase; also the server's close). A stream's writer refuses writes from here on and its
    /// producer's task is cancelled.
    func close() {
        guard phase != .closed else { return }
        phase = .closed
        timer?.cancel()
        timer = nil
        if registered {
            loop.deregister(channel.fd)
            registered = false
        }
        channel.close()
        outbound = []
        outboundStart = 0
        writer?.close()
        writer = nil
        producer?.cancel()
        producer = nil
        let closed = onClosed
        onClosed = nil
        closed?()
    }
}

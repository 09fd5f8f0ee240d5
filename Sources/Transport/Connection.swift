import Dispatch
import Foundation
import Glibc

/// Receives a connection's events on its loop's thread.
protocol ConnectionHandler: AnyObject {
    /// TCP (and TLS when asked) is up; writes now go out.
    func connectionDidOpen(_ connection: Connection)
    /// Bytes arrived; the buffer (the loop's read buffer) is only valid during the call, and the handler
    /// may change it there (a WebSocket unmasks payloads in place).
    func connection(_ connection: Connection, didReceive bytes: UnsafeMutableRawBufferPointer)
    /// The connection ended: `nil` when the peer closed cleanly (end of stream), else why.
    /// Not called after `close()`.
    func connection(_ connection: Connection, didCloseWith error: TransportError?)
}

/// How long each phase of opening a connection may take.
public struct ConnectTimeouts: Sendable, Hashable {
    /// Resolution plus the TCP connect, over every address of the host.
    public var connect: Duration
    /// The TLS handshake.
    public var tls: Duration
    public init(connect: Duration = .seconds(10), tls: Duration = .seconds(10)) {
        self.connect = connect
        self.tls = tls
    }
}

/// One socket driven by an event loop: a non-blocking connect over every resolved address, the TLS
/// handshake by readiness, then reads and writes through the socket streams with an outbound buffer.
/// Touch it only on its loop's thread.
final class Connection: EventHandler, @unchecked Sendable {
    enum State: Equatable { case idle, resolving, connecting, tlsHandshake, open, closed }

    let loop: EventLoop
    let host: String
    let port: Int
    private(set) var state: State = .idle
    var handler: ConnectionHandler?
    private let tlsContext: TLSContext?
    private let timeouts: ConnectTimeouts
    private var channel: ByteChannel?
    /// Whether the TLS handshake resumed an earlier session (false for plain TCP).
    var tlsResumed: Bool { (channel as? TLSChannel)?.resumedSession ?? false }
    private var tlsChannel: TLSChannel?
    /// A short read means the socket is drained (plain TCP; epoll is level-triggered, so more bytes wake
    /// the loop again). Over TLS, OpenSSL may hold decrypted bytes past a short read: read to EAGAIN.
    private var shortReadDrains = false
    private(set) var input: SocketInputStream?
    private(set) var output: SocketOutputStream?
    private var fd: Int32 = -1
    private var registered = false
    private var addresses: [SocketAddress] = []
    private var nextAddress = 0
    private var connectErrors: [Int32] = []
    private var phaseTimer: LoopTimer?
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var closeAfterFlush = false
    private var readWantsWritable = false
    /// Past this many unsent bytes the peer is taken as not reading and the connection fails.
    var maxOutboundBytes = 16 << 20
    /// When the outbound buffer last shrank or was empty (monotonic ns).
    private(set) var lastWriteProgress: UInt64 = monotonicNanos()

    /// Bytes accepted by `write` and not yet taken by the socket.
    var pendingWriteBytes: Int { outbound.count - outboundStart }

    private init(loop: EventLoop, host: String, port: Int, tls: TLSContext?, timeouts: ConnectTimeouts, handler: ConnectionHandler?) {
        self.loop = loop
        self.host = host
        self.port = port
        self.tlsContext = tls
        self.timeouts = timeouts
        self.handler = handler
    }

    /// Opens a client connection; call on `loop`'s thread. Events go to `handler`.
    static func connect(host: String, port: Int, tls: TLSContext?, timeouts: ConnectTimeouts,
                        on loop: EventLoop, handler: ConnectionHandler) -> Connection {
        let connection = Connection(loop: loop, host: host, port: port, tls: tls, timeouts: timeouts, handler: handler)
        connection.startClient()
        return connection
    }

    /// Adopts an accepted socket (server side); call on `loop`'s thread. With `tls` the server handshake runs first.
    static func accepted(fd: Int32, peer: SocketAddress, tls: TLSContext?, timeouts: ConnectTimeouts,
                         on loop: EventLoop, handler: ConnectionHandler) -> Connection {
        let connection = Connection(loop: loop, host: peer.host, port: peer.port, tls: tls, timeouts: timeouts, handler: handler)
        connection.fd = fd
        connection.startAccepted()
        return connection
    }

    // MARK: Opening

    private func startClient() {
        let connectTimeout = timeouts.connect
        phaseTimer = loop.schedule(after: connectTimeout) { [weak self] in
            guard let self else { return }
            // Still resolving: the name service is what did not answer, and the error says so.
            if self.state == .resolving {
                self.fail(HostResolver.timedOut(host: self.host, after: connectTimeout))
            } else {
                self.fail(.timeout(phase: .connect, host: self.host, port: self.port))
            }
        }
        if SocketAddress.isLiteral(host) {
            do {
                beginConnecting(try SocketAddress.resolve(host: host, port: port))
            } catch { fail(error) }
            return
        }
        state = .resolving
        let loop = self.loop
        // The resolver's deadline is the connect timeout too, so a lookup that never returns frees its
        // caller's place in the resolver when this connect gives up.
        HostResolver.shared.resolve(host: host, port: port, timeout: connectTimeout) { [self] result in
            loop.execute { [self] in
                guard state == .resolving else { return }
                switch result {
                case .success(let found): beginConnecting(found)
                case .failure(let error): fail(error)
                }
            }
        }
    }

    private func startAccepted() {
        Socket.setNoDelay(fd)
        if let tlsContext {
            do {
                let made = try TLSChannel(serverFD: fd, context: tlsContext, peerHost: host, peerPort: port)
                tlsChannel = made
                channel = made
            } catch {
                Glibc.close(fd)
                fd = -1
                fail(error)
                return
            }
            startHandshake()
        } else {
            channel = ByteChannel(fd: fd, peerHost: host, peerPort: port)
            guard ensureRegistered() else { return }
            becomeOpen()
        }
    }

    private func beginConnecting(_ found: [SocketAddress]) {
        state = .connecting
        addresses = found
        nextAddress = 0
        tryNextAddress()
    }

    private func tryNextAddress() {
        while nextAddress < addresses.count {
            let address = addresses[nextAddress]
            nextAddress += 1
            let socketFD: Int32
            do { socketFD = try Socket.makeNonBlocking(family: address.family) } catch {
                connectErrors.append(errno)
                continue
            }
            fd = socketFD
            switch Socket.startConnect(socketFD, to: address) {
            case .connected:
                tcpConnected()
                return
            case .inProgress:
                do {
                    try loop.register(socketFD, handler: self, readable: false, writable: true)
                    registered = true
                } catch {
                    fail(error)
                }
                return
            case .failed(let code):
                connectErrors.append(code)
                Glibc.close(socketFD)
                fd = -1
            }
        }
        fail(connectFailure())
    }

    private func connectFailure() -> TransportError {
        if !connectErrors.isEmpty && connectErrors.allSatisfy({ $0 == ECONNREFUSED }) { return .refused(host: host, port: port) }
        if connectErrors.contains(ETIMEDOUT) { return .timeout(phase: .connect, host: host, port: port) }
        if let code = connectErrors.last(where: { $0 != ECONNREFUSED }) { return .system(call: "connect to \(host):\(port)", errno: code) }
        return .refused(host: host, port: port)
    }

    private func connectAttemptFinished() {
        let code = Socket.pendingError(fd)
        if code == 0 {
            tcpConnected()
            return
        }
        if code == EINPROGRESS { return }
        connectErrors.append(code)
        loop.deregister(fd)
        registered = false
        Glibc.close(fd)
        fd = -1
        tryNextAddress()
    }

    private func tcpConnected() {
        phaseTimer?.cancel()
        phaseTimer = nil
        Socket.setNoDelay(fd)
        if let tlsContext {
            do {
                let made = try TLSChannel(clientFD: fd, context: tlsContext, serverName: host, port: port)
                tlsChannel = made
                channel = made
            } catch {
                fail(error)
                return
            }
            startHandshake()
        } else {
            channel = ByteChannel(fd: fd, peerHost: host, peerPort: port)
            guard ensureRegistered() else { return }
            becomeOpen()
        }
    }

    private func ensureRegistered() -> Bool {
        if registered { return true }
        do {
            try loop.register(fd, handler: self, readable: true, writable: false)
            registered = true
            return true
        } catch {
            fail(error)
            return false
        }
    }

    private func startHandshake() {
        state = .tlsHandshake
        guard ensureRegistered() else { return }
        phaseTimer = loop.schedule(after: timeouts.tls) { [weak self] in
            guard let self else { return }
            self.fail(.timeout(phase: .tls, host: self.host, port: self.port))
        }
        driveHandshake()
    }

    private func driveHandshake() {
        guard let tlsChannel else { return }
        switch tlsChannel.handshake() {
        case .done:
            phaseTimer?.cancel()
            phaseTimer = nil
            becomeOpen()
        case .wantRead:
            loop.setInterest(fd, readable: true, writable: false)
        case .wantWrite:
            loop.setInterest(fd, readable: true, writable: true)
        case .failed(let error):
            fail(error)
        }
    }

    private func becomeOpen() {
        guard let channel else { return }
        state = .open
        let input = SocketInputStream(channel: channel)
        let output = SocketOutputStream(channel: channel)
        input.open()
        output.open()
        self.input = input
        self.output = output
        shortReadDrains = tlsChannel == nil
        loop.setInterest(fd, readable: true, writable: pendingWriteBytes > 0)
        lastWriteProgress = monotonicNanos()
        handler?.connectionDidOpen(self)
        if state == .open && pendingWriteBytes > 0 { flush() }
        // Bytes that came with the handshake may sit decrypted in OpenSSL already.
        if state == .open, channel.hasBufferedBytes { readAvailable() }
    }

    // MARK: Events

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        switch state {
        case .connecting:
            connectAttemptFinished()
        case .tlsHandshake:
            driveHandshake()
        case .open:
            if writable && pendingWriteBytes > 0 { flush() }
            if state == .open && (readable || hangup || (writable && readWantsWritable)) { readAvailable() }
            if state == .open && readable && pendingWriteBytes > 0 && output?.needsReadable == true { flush() }
        case .idle, .resolving, .closed:
            break
        }
    }

    private func readAvailable() {
        guard let input else { return }
        let buffer = loop.readBuffer
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        readWantsWritable = false
        while state == .open {
            let n = input.read(base, maxLength: buffer.count)
            if n > 0 {
                handler?.connection(self, didReceive: UnsafeMutableRawBufferPointer(start: base, count: n))
                if n < buffer.count && shortReadDrains { return }
                continue
            }
            if n == 0 {
                finish(nil)
                return
            }
            if input.wouldBlock {
                if input.needsWritable {
                    readWantsWritable = true
                    loop.setInterest(fd, readable: true, writable: true)
                }
                return
            }
            finish(input.transportError ?? .reset(host: host, port: port, during: nil))
            return
        }
    }

    // MARK: Writing

    /// Queues `bytes` and sends what the socket takes now. False when the connection is closed.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard state != .closed, !closeAfterFlush else { return false }
        var rest = bytes
        if state == .open && pendingWriteBytes == 0, let output, let base = bytes.baseAddress {
            let n = output.write(base.assumingMemoryBound(to: UInt8.self), maxLength: bytes.count)
            if n > 0 {
                // No time taken here: `lastWriteProgress` matters only while bytes wait, and is set below
                // when they start to.
                rest = UnsafeRawBufferPointer(rebasing: bytes[n...])
            } else if !output.wouldBlock {
                finish(output.transportError ?? .reset(host: host, port: port, during: nil))
                return false
            }
        }
        guard !rest.isEmpty else { return true }
        if pendingWriteBytes == 0 {
            outbound.removeAll(keepingCapacity: false)
            outboundStart = 0
            lastWriteProgress = monotonicNanos()
        }
        outbound.append(contentsOf: rest)
        if pendingWriteBytes > maxOutboundBytes {
            finish(.outboundBufferFull(host: host, bytes: pendingWriteBytes))
            return false
        }
        if state == .open && output?.needsReadable != true { loop.setInterest(fd, readable: true, writable: true) }
        return true
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { write($0) }
    }

    private func flush() {
        guard let output else { return }
        while pendingWriteBytes > 0 {
            let n = outbound.withUnsafeBufferPointer { whole in
                output.write(whole.baseAddress! + outboundStart, maxLength: whole.count - outboundStart)
            }
            if n > 0 {
                outboundStart += n
                lastWriteProgress = monotonicNanos()
                continue
            }
            if output.wouldBlock {
                loop.setInterest(fd, readable: true, writable: !output.needsReadable)
                return
            }
            finish(output.transportError ?? .reset(host: host, port: port, during: nil))
            return
        }
        outbound = []
        outboundStart = 0
        if closeAfterFlush {
            close()
            return
        }
        loop.setInterest(fd, readable: true, writable: readWantsWritable)
    }

    // MARK: Closing

    /// Closes once the queued bytes are sent (or at once when nothing is queued).
    func closeWhenFlushed() {
        guard state != .closed else { return }
        if state == .open && pendingWriteBytes > 0 {
            closeAfterFlush = true
        } else {
            close()
        }
    }

    /// Closes now with a TCP reset rather than a FIN (SO_LINGER 0), without telling the handler.
    func closeWithReset() {
        if state != .closed, fd >= 0 {
            var option = linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        }
        close()
    }

    /// Closes now without telling the handler.
    func close() {
        guard state != .closed else { return }
        state = .closed
        phaseTimer?.cancel()
        phaseTimer = nil
        if registered {
            loop.deregister(fd)
            registered = false
        }
        input?.close()
        output?.close()
        if let channel {
            channel.close()
        } else if fd >= 0 {
            Glibc.close(fd)
        }
        fd = -1
        outbound = []
        outboundStart = 0
        handler = nil
    }

    /// Closes and tells the handler why.
    private func finish(_ error: TransportError?) {
        guard state != .closed else { return }
        let handler = self.handler
        close()
        handler?.connection(self, didCloseWith: error)
    }

    private func fail(_ error: TransportError) {
        let phased: TransportError
        switch (error, state) {
        case (.reset(let h, let p, nil), .tlsHandshake): phased = .reset(host: h, port: p, during: .tls)
        default: phased = error
        }
        finish(phased)
    }
}

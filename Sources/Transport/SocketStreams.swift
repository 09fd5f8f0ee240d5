import Glibc

/// A connected socket as a pair of Foundation streams in blocking mode, for code that owns a
/// dedicated thread (never the cooperative pool): each read or write waits up to `ioTimeout`.
public final class SocketStreams: @unchecked Sendable {
    public let input: SocketInputStream
    public let output: SocketOutputStream
    private let channel: ByteChannel

    private init(channel: ByteChannel, ioTimeout: Duration) {
        self.channel = channel
        input = SocketInputStream(channel: channel, blockingTimeout: ioTimeout)
        output = SocketOutputStream(channel: channel, blockingTimeout: ioTimeout)
        input.open()
        output.open()
    }

    /// Connects to `host:port` (name, IPv4 or IPv6 literal), then runs the TLS handshake when `tls` is given.
    /// Blocks the calling thread up to the timeouts.
    public static func connect(host: String, port: Int, tls: TLSContext? = nil,
                               timeouts: ConnectTimeouts = ConnectTimeouts(),
                               ioTimeout: Duration = .seconds(30)) throws(TransportError) -> SocketStreams {
        ignoreSIGPIPE()
        let deadline = monotonicNanos() &+ timeouts.connect.nanoseconds
        // Names go through the shared resolver so that a silent name service costs at most the connect timeout.
        let addresses = SocketAddress.isLiteral(host)
            ? try SocketAddress.resolve(host: host, port: port)
            : try HostResolver.shared.resolveBlocking(host: host, port: port, timeout: timeouts.connect)
        var errors: [Int32] = []
        var connectedFD: Int32 = -1
        for address in addresses {
            let fd = try Socket.makeNonBlocking(family: address.family)
            switch Socket.startConnect(fd, to: address) {
            case .connected:
                connectedFD = fd
            case .failed(let code):
                errors.append(code)
                Glibc.close(fd)
            case .inProgress:
                let now = monotonicNanos()
                let left = deadline > now ? Int32(min((deadline - now) / 1_000_000 + 1, 3_600_000)) : 0
                guard left > 0, Socket.wait(fd, events: Int16(POLLOUT), timeoutMs: left) else {
                    Glibc.close(fd)
                    throw .timeout(phase: .connect, host: host, port: port)
                }
                let code = Socket.pendingError(fd)
                if code == 0 { connectedFD = fd } else {
                    errors.append(code)
                    Glibc.close(fd)
                }
            }
            if connectedFD >= 0 { break }
        }
        guard connectedFD >= 0 else {
            if errors.allSatisfy({ $0 == ECONNREFUSED }) { throw .refused(host: host, port: port) }
            throw .system(call: "connect to \(host):\(port)", errno: errors.last(where: { $0 != ECONNREFUSED }) ?? ECONNREFUSED)
        }
        Socket.setNoDelay(connectedFD)
        guard let tls else {
            return SocketStreams(channel: ByteChannel(fd: connectedFD, peerHost: host, peerPort: port), ioTimeout: ioTimeout)
        }
        let channel: TLSChannel
        do { channel = try TLSChannel(clientFD: connectedFD, context: tls, serverName: host, port: port) } catch {
            Glibc.close(connectedFD)
            throw error
        }
        let tlsDeadline = monotonicNanos() &+ timeouts.tls.nanoseconds
        while true {
            let step = channel.handshake()
            let events: Int16
            switch step {
            case .done:
                return SocketStreams(channel: channel, ioTimeout: ioTimeout)
            case .failed(let error):
                channel.close()
                throw error
            case .wantRead: events = Int16(POLLIN)
            case .wantWrite: events = Int16(POLLOUT)
            }
            let now = monotonicNanos()
            let left = tlsDeadline > now ? Int32(min((tlsDeadline - now) / 1_000_000 + 1, 3_600_000)) : 0
            guard left > 0, Socket.wait(connectedFD, events: events, timeoutMs: left) else {
                channel.close()
                throw .timeout(phase: .tls, host: host, port: port)
            }
        }
    }

    /// Closes both streams and the socket.
    public func close() {
        input.close()
        output.close()
        channel.close()
    }
}

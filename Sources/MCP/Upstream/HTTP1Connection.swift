import ClientSupport
import Foundation
import Synchronization
import Transport

/// One HTTP/1.1 connection to an origin: a socket (TLS for https) and the thread that does all its
/// blocking I/O, one request at a time. Bytes are read only when a reader asks for them, so a
/// sender faster than its reader fills the TCP window, not this process's memory.
final class HTTP1Connection: @unchecked Sendable {
    // @unchecked: `streams` and `closed` are guarded by `link`; `buffer` and `start` are touched only by
    // jobs on `thread`, which runs them one at a time.
    private struct Link {
        var streams: SocketStreams?
        var closed = false
    }

    let origin: HTTPOrigin
    let thread: ConnectionThread
    private let link = Mutex(Link())
    /// Bytes read and not yet used, from `start` on (thread only).
    var buffer: [UInt8] = []
    var start = 0
    /// Where one read lands before it joins `buffer` (thread only).
    private var scratch = [UInt8](repeating: 0, count: HTTP1Connection.readSize)
    /// When the connection was last handed back idle (for the pool).
    var idleSince = ContinuousClock.now
    /// Whether it carried a request before (thread only).
    var requestsSent = 0

    /// Bytes taken from the socket in one read: also the most a reader gets at once.
    static let readSize = 64 << 10

    init(origin: HTTPOrigin) {
        self.origin = origin
        self.thread = ConnectionThread(name: "mcp-http \(origin.host)")
    }

    deinit {
        close()
    }

    var isClosed: Bool { link.withLock { $0.closed } }

    /// The socket, connecting first when there is none (thread only).
    func connectedStreams(tls: TLSConfiguration, timeout: Duration) throws(HTTPTransportError) -> SocketStreams {
        let (closed, existing) = link.withLock { ($0.closed, $0.streams) }
        if closed { throw HTTPTransportError(kind: .cancelled, detail: "cancelled") }
        if let existing { return existing }
        let streams: SocketStreams
        do {
            let context = origin.secure ? try TLSContext.client(tls) : nil
            streams = try SocketStreams.connect(host: origin.host, port: origin.port, tls: context,
                                                timeouts: ConnectTimeouts(connect: timeout, tls: timeout), ioTimeout: timeout)
        } catch {
            throw HTTPTransportError.connecting(error)
        }
        let kept = link.withLock { link -> Bool in
            guard !link.closed else { return false }
            link.streams = streams
            return true
        }
        guard kept else {
            streams.close()
            throw HTTPTransportError(kind: .cancelled, detail: "cancelled")
        }
        return streams
    }

    /// Reads once more from the socket into `buffer` (thread only): false at the end of the stream.
    func readMore(_ streams: SocketStreams, timeout: Duration) throws(TransportError) -> Bool {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        streams.input.blockingTimeout = timeout
        let n = scratch.withUnsafeMutableBufferPointer { streams.input.read($0.baseAddress!, maxLength: $0.count) }
        if n > 0 {
            buffer.append(contentsOf: scratch[0..<n])
            return true
        }
        if n == 0 { return false }
        throw streams.input.transportError ?? .closed
    }

    /// Whether a connection idle in the pool can carry a request: open, and the server sent nothing
    /// (an idle connection with something to read was closed by the server, or is confused).
    var looksReusable: Bool {
        link.withLock { link in
            guard !link.closed, let streams = link.streams else { return false }
            return !streams.input.hasBytesAvailable
        }
    }

    /// Closes the connection from any thread: a blocked read or write returns at once, the socket is
    /// closed on the connection's thread once its running job ends, then the thread stops.
    func close() {
        let streams: SocketStreams? = link.withLock { link in
            guard !link.closed else { return nil }
            link.closed = true
            defer { link.streams = nil }
            return link.streams
        }
        guard let streams else {
            thread.finish()
            return
        }
        streams.shutdown()
        thread.submit { streams.close() }
        thread.finish()
    }
}

extension HTTPTransportError {
    /// The error for a failed connect or TLS handshake.
    static func connecting(_ error: any Error) -> HTTPTransportError {
        guard let transport = error as? TransportError else { return HTTPTransportError(kind: .other, detail: "connect failed") }
        switch transport {
        case .refused, .resolutionFailed, .invalidAddress:
            return HTTPTransportError(kind: .unreachable, detail: "connection refused or host not found")
        case .timeout(let phase, _, _):
            return HTTPTransportError(kind: .unreachable, detail: phase == .tls ? "TLS handshake timed out" : "connect timed out")
        case .tlsFailure:
            return HTTPTransportError(kind: .unreachable, detail: "TLS handshake failed")
        default:
            return HTTPTransportError(kind: .unreachable, detail: "connect failed")
        }
    }
}

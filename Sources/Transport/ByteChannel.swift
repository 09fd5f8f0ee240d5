import Glibc

/// The outcome of one non-blocking read or write.
enum IOResult: Equatable {
    case transferred(Int)
    /// Retry when the socket is readable (or writable when `needsWritable`).
    case wouldBlock(needsWritable: Bool)
    case endOfStream
    case failed(TransportError)
}

/// Bytes over one connected socket: plain TCP or TLS. Owns the descriptor.
class ByteChannel: @unchecked Sendable {
    let fd: Int32
    let peerHost: String
    let peerPort: Int
    private(set) var isClosed = false

    init(fd: Int32, peerHost: String, peerPort: Int) {
        self.fd = fd
        self.peerHost = peerHost
        self.peerPort = peerPort
    }

    func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
        while true {
            let n = recv(fd, buffer, count, 0)
            if n > 0 { return .transferred(n) }
            if n == 0 { return .endOfStream }
            let code = errno
            if code == EINTR { continue }
            return classify(code, writing: false)
        }
    }

    func write(_ buffer: UnsafeRawPointer, _ count: Int) -> IOResult {
        while true {
            let n = send(fd, buffer, count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .transferred(n) }
            let code = errno
            if code == EINTR { continue }
            return classify(code, writing: true)
        }
    }

    /// Data already decrypted and waiting (TLS only).
    var hasBufferedBytes: Bool { false }

    func classify(_ code: Int32, writing: Bool) -> IOResult {
        switch code {
        case EAGAIN, EWOULDBLOCK: return .wouldBlock(needsWritable: writing)
        case ECONNRESET, EPIPE, ECONNABORTED, ETIMEDOUT: return .failed(.reset(host: peerHost, port: peerPort, during: nil))
        default: return .failed(.system(call: "socket I/O", errno: code))
        }
    }

    /// Closes the descriptor (once).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        _ = Glibc.close(fd)
    }

    deinit { close() }
}

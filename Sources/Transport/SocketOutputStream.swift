import Foundation
import Glibc

/// An `OutputStream` over a connected socket (plain or TLS).
///
/// Non-blocking by default: when the socket cannot take bytes `write` returns -1 with `wouldBlock`
/// set and the stream stays open. With `blockingTimeout` set it waits with poll(2) instead.
public final class SocketOutputStream: OutputStream {
    let channel: ByteChannel?
    /// How long a write may wait for room; nil means never wait.
    public var blockingTimeout: Duration?
    /// The last write could not proceed (the stream is still open).
    public private(set) var wouldBlock = false
    /// The last write needs the socket readable first (a TLS detail).
    public private(set) var needsReadable = false
    private var status: Stream.Status = .notOpen
    private var failure: TransportError?

    init(channel: ByteChannel, blockingTimeout: Duration? = nil) {
        self.channel = channel
        self.blockingTimeout = blockingTimeout
        super.init(toMemory: ())
    }

    /// Foundation requires this initializer of every subclass; such a stream has no socket and fails every write.
    public required init(toMemory: ()) {
        self.channel = nil
        super.init(toMemory: ())
    }

    /// The transport error that ended the stream, if any.
    public var transportError: TransportError? { failure }

    public override func open() { if status == .notOpen { status = .open } }
    public override func close() { status = .closed }
    public override var streamStatus: Stream.Status { status }
    public override var streamError: Error? { failure }
    public override var hasSpaceAvailable: Bool {
        guard status == .open || status == .writing, let channel else { return false }
        return Socket.wait(channel.fd, events: Int16(POLLOUT), timeoutMs: 0)
    }

    /// Writes up to `len` bytes: the count written, or -1 on error or when it would block.
    public override func write(_ buffer: UnsafePointer<UInt8>, maxLength len: Int) -> Int {
        wouldBlock = false
        needsReadable = false
        guard let channel, status == .open || status == .writing else { return -1 }
        if len == 0 { return 0 }
        let deadline = blockingTimeout.map { monotonicNanos() &+ $0.nanoseconds }
        while true {
            switch channel.write(buffer, len) {
            case .transferred(let n):
                return n
            case .endOfStream:
                failure = .reset(host: channel.peerHost, port: channel.peerPort, during: nil)
                status = .error
                return -1
            case .failed(let error):
                failure = error
                status = .error
                return -1
            case .wouldBlock(let writable):
                guard let deadline else {
                    wouldBlock = true
                    needsReadable = !writable
                    return -1
                }
                let now = monotonicNanos()
                let left = deadline > now ? Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max))) : 0
                if left == 0 || !Socket.wait(channel.fd, events: Int16(writable ? POLLOUT : POLLIN), timeoutMs: left) {
                    failure = .timeout(phase: .write, host: channel.peerHost, port: channel.peerPort)
                    status = .error
                    return -1
                }
            }
        }
    }

    /// Writes all of `bytes` (blocking mode) or as much as the socket takes (non-blocking mode).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBufferPointer { write($0.baseAddress! + offset, maxLength: bytes.count - offset) }
            if n <= 0 { return offset == 0 ? n : offset }
            offset += n
            if blockingTimeout == nil && wouldBlock { break }
        }
        return offset
    }
}

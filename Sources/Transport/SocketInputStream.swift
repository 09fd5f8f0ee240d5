import Foundation
import Glibc

/// An `InputStream` over a connected socket (plain or TLS).
///
/// Non-blocking by default: when no byte is ready `read` returns -1 with `wouldBlock` set and the
/// stream stays open, so an event loop can wait for readiness. With `blockingTimeout` set, `read`
/// waits with poll(2) up to that long instead (for code that owns a dedicated thread).
public final class SocketInputStream: InputStream {
    let channel: ByteChannel?
    /// How long a read may wait; nil means never wait.
    public var blockingTimeout: Duration?
    /// The last read found nothing ready (the stream is still open).
    public private(set) var wouldBlock = false
    /// The last read needs the socket writable first (a TLS detail).
    public private(set) var needsWritable = false
    private var status: Stream.Status = .notOpen
    private var failure: TransportError?

    init(channel: ByteChannel, blockingTimeout: Duration? = nil) {
        self.channel = channel
        self.blockingTimeout = blockingTimeout
        super.init(data: Data())
    }

    /// The transport error that ended the stream, if any.
    public var transportError: TransportError? { failure }

    public override func open() { if status == .notOpen { status = .open } }
    public override func close() { status = .closed }
    public override var streamStatus: Stream.Status { status }
    public override var streamError: Error? { failure }
    public override var hasBytesAvailable: Bool {
        guard status == .open || status == .reading, let channel else { return false }
        if channel.hasBufferedBytes { return true }
        return Socket.wait(channel.fd, events: Int16(POLLIN), timeoutMs: 0)
    }
    public override func getBuffer(_ buffer: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, length len: UnsafeMutablePointer<Int>) -> Bool { false }

    /// Reads up to `len` bytes: > 0 bytes read, 0 at end of stream, -1 on error or when it would block.
    public override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength len: Int) -> Int {
        wouldBlock = false
        needsWritable = false
        guard let channel, status == .open || status == .reading else { return status == .atEnd ? 0 : -1 }
        let deadline = blockingTimeout.map { monotonicNanos() &+ $0.nanoseconds }
        while true {
            switch channel.read(buffer, len) {
            case .transferred(let n):
                return n
            case .endOfStream:
                status = .atEnd
                return 0
            case .failed(let error):
                failure = error
                status = .error
                return -1
            case .wouldBlock(let writable):
                guard let deadline else {
                    wouldBlock = true
                    needsWritable = writable
                    return -1
                }
                let now = monotonicNanos()
                let left = deadline > now ? Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max))) : 0
                if left == 0 || !Socket.wait(channel.fd, events: Int16(writable ? POLLOUT : POLLIN), timeoutMs: left) {
                    failure = .timeout(phase: .silence, host: channel.peerHost, port: channel.peerPort)
                    status = .error
                    return -1
                }
            }
        }
    }
}

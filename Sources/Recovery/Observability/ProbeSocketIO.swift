#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Reads a request head and writes a response on a non-blocking probe socket, each against one deadline
/// for the whole operation (not per read), so a client trickling a byte at a time cannot stretch it.
enum ProbeSocketIO {
    /// How reading a request head ended.
    enum HeadRead: Equatable {
        /// The bytes up to and including the blank line that ends the head.
        case complete([UInt8])
        /// The deadline passed before the head was complete.
        case timedOut
        /// The peer closed, or the socket failed or was shut down.
        case closed
        /// More than the allowed bytes arrived without a blank line.
        case tooLarge
    }

    /// Makes `fd` non-blocking; false when it cannot be (the caller drops the connection).
    static func makeNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL, 0)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    /// Reads until the blank line ending the head, the deadline (monotonic nanoseconds), or `maxBytes`.
    static func readHead(_ fd: Int32, deadline: UInt64, maxBytes: Int) -> HeadRead {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                let searchFrom = max(0, head.count - 3)
                head.append(contentsOf: chunk[0..<n])
                if let end = headEnd(in: head, from: searchFrom) { return .complete(Array(head[..<end])) }
                if head.count > maxBytes { return .tooLarge }
                continue
            }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return .closed }
            switch wait(fd, events: Int16(POLLIN), deadline: deadline) {
            case .ready: continue
            case .timedOut: return .timedOut
            case .failed: return .closed
            }
        }
    }

    /// Writes every byte before the deadline; false when the peer stopped reading or went away.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], deadline: UInt64) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK else { return false }
            guard case .ready = wait(fd, events: Int16(POLLOUT), deadline: deadline) else { return false }
        }
        return true
    }

    /// The index just past the head's blank line (`\r\n\r\n`, or `\n\n` from lenient clients), looking
    /// from `start` on.
    static func headEnd(in bytes: [UInt8], from start: Int) -> Int? {
        var index = max(0, start)
        while index < bytes.count {
            if bytes[index] == 10 {
                if index >= 1, bytes[index - 1] == 10 { return index + 1 }
                if index >= 3, bytes[index - 1] == 13, bytes[index - 2] == 10, bytes[index - 3] == 13 { return index + 1 }
            }
            index += 1
        }
        return nil
    }

    private enum Readiness { case ready, timedOut, failed }

    private static func wait(_ fd: Int32, events: Int16, deadline: UInt64) -> Readiness {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return .timedOut }
            let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&entry, 1, milliseconds)
            if rc < 0 {
                if errno == EINTR { continue }
                return .failed
            }
            if rc == 0 { continue }
            // A hang-up or error still lets the next read or write report what happened.
            return .ready
        }
    }
}

import Foundation

/// Where rendered log lines go: standard error (or another descriptor), or a buffer in tests. A line is
/// written whole with `write(2)`; when the descriptor fails (the log reader went away: `EPIPE`) the line
/// is lost and the process carries on. Foundation's `FileHandle.write(_:)` traps on that error, which
/// would take a worker down with every session it holds because a log shipper restarted.
public final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var captured: [String]?
    private let descriptor: Int32

    private init(capturing: Bool, descriptor: Int32) {
        captured = capturing ? [] : nil
        self.descriptor = descriptor
        // A closed log pipe must fail the write, not kill the process.
        if !capturing { signal(SIGPIPE, SIG_IGN) }
    }

    public static let standardError = LogSink(capturing: false, descriptor: STDERR_FILENO)
    /// A sink that keeps lines in memory.
    public static func capturing() -> LogSink { LogSink(capturing: true, descriptor: -1) }
    /// A sink that writes to `descriptor`, which stays the caller's to close.
    static func writing(to descriptor: Int32) -> LogSink { LogSink(capturing: false, descriptor: descriptor) }

    public var lines: [String] { lock.withLock { captured ?? [] } }

    func write(_ line: String) {
        lock.withLock {
            if captured != nil {
                captured!.append(line)
                return
            }
            var line = line
            line.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}

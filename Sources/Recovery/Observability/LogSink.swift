import ClientSupport
import Foundation
import RecoveryCore

/// Where rendered log lines go: standard error (or another descriptor), or a buffer in tests.
///
/// Lines are handed to a writer thread of the sink's own through a `LogBacklog`, so a log reader that
/// stops reading (a paused shipper, a full pipe) never blocks the thread that logs: a worker's loops keep
/// renewing leases and serving sessions, and once the backlog's bound is reached lines are dropped and
/// counted in place. The writer writes whole lines with `write(2)`, batched up to `PIPE_BUF` so that
/// lines stay whole on a pipe other processes share; when the descriptor fails (`EPIPE`: the reader went
/// away) lines are lost and the process carries on. Foundation's `FileHandle.write(_:)` traps on that
/// error, which would take a worker down with every session it holds because a log shipper restarted.
public final class LogSink: @unchecked Sendable {
    /// Bytes of lines held for a slow reader, per process, before lines are dropped.
    public static let defaultBacklogBytes = 1 << 20
    /// Lines written together: a pipe keeps writes of at most this many bytes whole (`PIPE_BUF`).
    static let batchBytes = 4_096

    private let condition = NSCondition()
    private var captured: [String]?
    private var backlog: LogBacklog
    private let descriptor: Int32
    /// What the writer writes in place of a run of dropped lines.
    private var droppedNotice: @Sendable (Int) -> String = LogSink.plainDroppedNotice
    private var writerWaiting = false
    private var writing = false
    private var stopping = false
    private var writerRunning = false

    private init(capturing: Bool, descriptor: Int32, backlogBytes: Int) {
        captured = capturing ? [] : nil
        self.descriptor = descriptor
        backlog = LogBacklog(limitBytes: backlogBytes)
        guard !capturing else { return }
        // A closed log pipe must fail the write, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        writerRunning = true
        let thread = Thread { [self] in runWriter() }
        thread.name = "log-writer"
        thread.start()
    }

    /// Standard error; the process's exit waits a moment for the lines it holds.
    public static let standardError: LogSink = {
        let sink = LogSink(capturing: false, descriptor: STDERR_FILENO, backlogBytes: defaultBacklogBytes)
        atexit { _ = LogSink.standardError.flush(timeout: .seconds(2)) }
        return sink
    }()

    /// A sink that keeps lines in memory.
    public static func capturing() -> LogSink { LogSink(capturing: true, descriptor: -1, backlogBytes: 0) }

    /// A sink that writes to `descriptor`, which stays the caller's to close after `finish()`.
    static func writing(to descriptor: Int32, backlogBytes: Int = defaultBacklogBytes) -> LogSink {
        LogSink(capturing: false, descriptor: descriptor, backlogBytes: backlogBytes)
    }

    public var lines: [String] { condition.withLock { captured ?? [] } }

    /// Lines dropped because the reader did not keep up.
    public var droppedLines: Int { condition.withLock { backlog.droppedTotal } }

    /// Sets the line written where lines were dropped (in the process's log format).
    public func renderDroppedNotice(with render: @escaping @Sendable (Int) -> String) {
        condition.withLock { droppedNotice = render }
    }

    /// Hands `line` to the writer; never waits for the reader.
    func write(_ line: String) {
        condition.lock()
        defer { condition.unlock() }
        if captured != nil {
            captured!.append(line)
            return
        }
        guard !stopping else { return }
        backlog.append(line)
        if writerWaiting { condition.broadcast() }
    }

    /// Waits until every line handed over has been written (or dropped), at most `timeout`; returns
    /// whether it was.
    @discardableResult
    public func flush(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18)
        condition.lock()
        defer { condition.unlock() }
        while writerRunning && (!backlog.isEmpty || writing) {
            guard condition.wait(until: deadline) else { return false }
        }
        return true
    }

    /// Writes what is held and stops the writer; later lines are ignored.
    func finish() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while writerRunning { condition.wait() }
        condition.unlock()
    }

    private func runWriter() {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.batchBytes)
        condition.lock()
        while true {
            while backlog.isEmpty && !stopping {
                writerWaiting = true
                condition.wait()
                writerWaiting = false
            }
            if backlog.isEmpty { break }
            let batch = backlog.takeBatch(maxBytes: Self.batchBytes)
            let notice = droppedNotice
            writing = true
            condition.unlock()

            buffer.removeAll(keepingCapacity: true)
            for entry in batch {
                switch entry {
                case .line(let line): buffer.append(contentsOf: line.utf8)
                case .dropped(let count): buffer.append(contentsOf: notice(count).utf8)
                }
            }
            buffer.withUnsafeBytes { _ = DescriptorWrite.whole($0, to: descriptor) }

            condition.lock()
            writing = false
            if backlog.isEmpty { condition.broadcast() }
        }
        writerRunning = false
        condition.broadcast()
        condition.unlock()
    }

    /// The notice before the process's log format is known.
    static func plainDroppedNotice(_ count: Int) -> String {
        "\(Timestamp.format(Date())) warning log: \(droppedMessage(count))\n"
    }

    /// What a run of dropped lines is reported as.
    static func droppedMessage(_ count: Int) -> String {
        "\(count) log lines dropped: the log reader did not keep up"
    }
}

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The queue of work sent to a connection's thread, plus a pipe that wakes the thread from `poll`.
final class CommandMailbox: Sendable {
    /// One unit of work; `fail` is called instead of `run` when the connection is already shut down.
    struct Command: Sendable {
        let run: @Sendable (ConnectionLoop) -> Void
        let fail: @Sendable (AMQPError) -> Void
    }

    private struct State {
        var commands: [Command] = []
        var closedError: AMQPError?
    }

    private let state = Mutex(State())
    /// Read end of the wake-up pipe, for the connection thread's `poll`.
    let wakeDescriptor: Int32
    private let wakeWriter: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        let status = pipe(&fds)
        precondition(status == 0, "pipe failed: errno \(errno)")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeDescriptor = fds[0]
        wakeWriter = fds[1]
    }

    deinit {
        Glibc.close(wakeDescriptor)
        Glibc.close(wakeWriter)
    }

    /// Queues `command` for the thread, or fails it at once when the connection is shut down.
    func post(_ command: Command) {
        let refused: AMQPError? = state.withLock { state in
            if let error = state.closedError { return error }
            state.commands.append(command)
            return nil
        }
        if let refused {
            command.fail(refused)
            return
        }
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    /// Takes every queued command and clears the wake-up pipe.
    func drain() -> [Command] {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeDescriptor, &buffer, buffer.count) > 0 {}
        return state.withLock { state in
            let commands = state.commands
            state.commands.removeAll()
            return commands
        }
    }

    /// Refuses all further commands with `error` and fails those still queued.
    func close(with error: AMQPError) {
        let leftover = state.withLock { state in
            state.closedError = error
            let commands = state.commands
            state.commands.removeAll()
            return commands
        }
        for command in leftover { command.fail(error) }
    }
}

import Foundation
import Glibc

/// CPU time spent per echoed message: by the client (this process, or the peer's own figure) and by the
/// echo server subprocess. On a machine whose cores the client and the server share, this says what a
/// message costs each side, whatever the other one's speed. The user-space part is given apart: the
/// kernel's share (loopback TCP, wake-ups) is the same for any client, the rest is the code's own.
struct EchoCPU: CustomStringConvertible {
    var clientMicros: Double
    /// The client's user-space part of `clientMicros`.
    var clientUserMicros: Double?
    /// Nil when the server is not this bench's own subprocess.
    var serverMicros: Double?
    var serverUserMicros: Double?

    /// CPU seconds (total and user) of this process and of the server subprocess at one instant.
    struct Mark {
        let client: (total: Double, user: Double)
        let server: (total: Double, user: Double)?

        init(serverPID: pid_t?) {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            client = (ProcessCPU.milliseconds() / 1000, user)
            server = serverPID.flatMap(Self.cpuSeconds(pid:))
        }

        /// User plus system, and user, time of `pid` from `/proc/<pid>/stat` (clock ticks, usually 10 ms).
        static func cpuSeconds(pid: pid_t) -> (total: Double, user: Double)? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
            return ((user + system) / tick, user / tick)
        }
    }

    init(clientMicros: Double, clientUserMicros: Double?, serverMicros: Double?, serverUserMicros: Double?) {
        self.clientMicros = clientMicros
        self.clientUserMicros = clientUserMicros
        self.serverMicros = serverMicros
        self.serverUserMicros = serverUserMicros
    }

    init(from start: Mark, to end: Mark, messages: Int) {
        let count = Double(max(messages, 1))
        clientMicros = (end.client.total - start.client.total) * 1e6 / count
        clientUserMicros = (end.client.user - start.client.user) * 1e6 / count
        if let before = start.server, let after = end.server {
            serverMicros = (after.total - before.total) * 1e6 / count
            serverUserMicros = (after.user - before.user) * 1e6 / count
        }
    }

    var description: String {
        func figure(_ name: String, _ total: Double, _ user: Double?) -> String {
            String(format: "%@ %.1f µs", name, total) + (user.map { String(format: " (user %.1f)", $0) } ?? "")
        }
        return figure("client", clientMicros, clientUserMicros) + (serverMicros.map { ", " + figure("server", $0, serverUserMicros) } ?? "")
    }
}

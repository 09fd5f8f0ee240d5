import Foundation
import Glibc

/// CPU time spent per echoed message: by the client (this process, or the peer's own figure) and by the
/// echo server subprocess. On a machine whose cores the client and the server share, this says what a
/// message costs each side, whatever the other one's speed.
struct EchoCPU: CustomStringConvertible {
    var clientMicros: Double
    /// Nil when the server is not this bench's own subprocess.
    var serverMicros: Double?

    /// CPU seconds of this process and of the server subprocess at one instant.
    struct Mark {
        let client: Double
        let server: Double?

        init(serverPID: pid_t?) {
            client = ProcessCPU.milliseconds() / 1000
            server = serverPID.flatMap(Self.cpuSeconds(pid:))
        }

        /// User plus system time of `pid` from `/proc/<pid>/stat` (clock ticks, usually 10 ms).
        static func cpuSeconds(pid: pid_t) -> Double? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
    }

    init(clientMicros: Double, serverMicros: Double?) {
        self.clientMicros = clientMicros
        self.serverMicros = serverMicros
    }

    init(from start: Mark, to end: Mark, messages: Int) {
        let count = Double(max(messages, 1))
        clientMicros = (end.client - start.client) * 1e6 / count
        serverMicros = zip(start.server, end.server).map { ($1 - $0) * 1e6 / count }
    }

    var description: String {
        String(format: "client %.1f µs", clientMicros) + (serverMicros.map { String(format: ", server %.1f µs", $0) } ?? "")
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

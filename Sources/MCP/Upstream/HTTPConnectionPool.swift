import Synchronization

/// Idle HTTP/1.1 connections kept for reuse, per origin: a few per host, each for a short while only,
/// so that a server closing its idle connections (commonly after 5 s) rarely meets a request on one.
final class HTTPConnectionPool: Sendable {
    private struct Idle {
        var byOrigin: [HTTPOrigin: [HTTP1Connection]] = [:]
        var shutDown = false
    }

    let maximumIdlePerOrigin: Int
    let maximumIdleAge: Duration
    private let idle = Mutex(Idle())

    init(maximumIdlePerOrigin: Int, maximumIdleAge: Duration = .seconds(2)) {
        self.maximumIdlePerOrigin = max(0, maximumIdlePerOrigin)
        self.maximumIdleAge = maximumIdleAge
    }

    /// A reusable idle connection to `origin`, or nil.
    func checkout(_ origin: HTTPOrigin) -> HTTP1Connection? {
        var stale: [HTTP1Connection] = []
        defer { for connection in stale { connection.close() } }
        let now = ContinuousClock.now
        return idle.withLock { idle in
            stale = takeExpired(&idle, now: now)
            while let candidate = idle.byOrigin[origin]?.popLast() {
                if candidate.looksReusable { return candidate }
                stale.append(candidate)
            }
            return nil
        }
    }

    /// Keeps a connection whose response was read to its end, or closes it when there is no room.
    func checkin(_ connection: HTTP1Connection) {
        var closing: [HTTP1Connection] = []
        defer { for connection in closing { connection.close() } }
        let now = ContinuousClock.now
        connection.idleSince = now
        idle.withLock { idle in
            closing = takeExpired(&idle, now: now)
            if idle.shutDown || (idle.byOrigin[connection.origin]?.count ?? 0) >= maximumIdlePerOrigin {
                closing.append(connection)
            } else {
                idle.byOrigin[connection.origin, default: []].append(connection)
            }
        }
    }

    /// Closes every idle connection; later checkins are closed at once.
    func shutdown() {
        let all: [HTTP1Connection] = idle.withLock { idle in
            idle.shutDown = true
            defer { idle.byOrigin.removeAll() }
            return idle.byOrigin.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }

    private func takeExpired(_ idle: inout Idle, now: ContinuousClock.Instant) -> [HTTP1Connection] {
        var expired: [HTTP1Connection] = []
        for (origin, connections) in idle.byOrigin {
            let (old, fresh) = (connections.filter { now - $0.idleSince >= maximumIdleAge },
                                connections.filter { now - $0.idleSince < maximumIdleAge })
            guard !old.isEmpty else { continue }
            expired += old
            idle.byOrigin[origin] = fresh.isEmpty ? nil : fresh
        }
        return expired
    }
}

/// The bridge's upstream connections, one per service: at most `capacity` of them, the least recently
/// used idle one evicted to make room, and each closed once no session holds its service any more
/// (a session ended, or its catalog no longer binds the service). Pure bookkeeping: the caller closes
/// the connections it hands back.
struct UpstreamConnectionTable<Connection> {
    /// A connection taken for one call; give it back with `checkin`.
    struct Lease {
        let connection: Connection
        /// Tells this connection from a later one of the same service.
        let serial: Int
    }

    enum Checkout {
        /// The call may go ahead; `evicted` were dropped to make room and must be closed.
        case ready(Lease, evicted: [Connection])
        /// Every connection is busy with calls and there is no room for another.
        case full
    }

    private struct Entry {
        var connection: Connection
        var serial: Int
        var lastUse: UInt64
        var activeCalls = 0
        /// No session holds the service any more: close it when its last call ends.
        var closeWhenIdle = false
    }

    let capacity: Int
    private var entries: [UpstreamService: Entry] = [:]
    /// How many sessions hold each service.
    private var holders: [UpstreamService: Int] = [:]
    private var useClock: UInt64 = 0
    private var nextSerial = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    func hasConnection(for service: UpstreamService) -> Bool { entries[service] != nil }

    func holderCount(of service: UpstreamService) -> Int { holders[service] ?? 0 }

    /// The service's connection for one call, made with `make` when there is none.
    mutating func checkout(_ service: UpstreamService, make: () -> Connection) -> Checkout {
        useClock += 1
        if var entry = entries[service] {
            entry.activeCalls += 1
            entry.lastUse = useClock
            entries[service] = entry
            return .ready(Lease(connection: entry.connection, serial: entry.serial), evicted: [])
        }
        var evicted: [Connection] = []
        if entries.count >= capacity {
            guard let victim = entries.filter({ $0.value.activeCalls == 0 }).min(by: { $0.value.lastUse < $1.value.lastUse }) else {
                return .full
            }
            entries[victim.key] = nil
            evicted.append(victim.value.connection)
        }
        nextSerial += 1
        let entry = Entry(connection: make(), serial: nextSerial, lastUse: useClock, activeCalls: 1)
        entries[service] = entry
        return .ready(Lease(connection: entry.connection, serial: entry.serial), evicted: evicted)
    }

    /// Ends a call; returns the connection when it must now be closed.
    mutating func checkin(_ service: UpstreamService, serial: Int) -> Connection? {
        guard var entry = entries[service], entry.serial == serial else { return nil }
        entry.activeCalls -= 1
        if entry.activeCalls == 0, entry.closeWhenIdle {
            entries[service] = nil
            return entry.connection
        }
        entries[service] = entry
        return nil
    }

    /// A session started using these services.
    mutating func hold(_ services: Set<UpstreamService>) {
        for service in services {
            holders[service, default: 0] += 1
            entries[service]?.closeWhenIdle = false
        }
    }

    /// A session stopped using these services; returns the connections to close now (those whose
    /// service no session holds and no call uses; the busy ones close when their last call ends).
    mutating func release(_ services: Set<UpstreamService>) -> [Connection] {
        var closing: [Connection] = []
        for service in services {
            guard let held = holders[service] else { continue }
            if held > 1 {
                holders[service] = held - 1
                continue
            }
            holders[service] = nil
            guard var entry = entries[service] else { continue }
            if entry.activeCalls == 0 {
                entries[service] = nil
                closing.append(entry.connection)
            } else {
                entry.closeWhenIdle = true
                entries[service] = entry
            }
        }
        return closing
    }

    /// Empties the table; returns every connection.
    mutating func removeAll() -> [Connection] {
        defer {
            entries.removeAll()
            holders.removeAll()
        }
        return entries.values.map(\.connection)
    }
}

extension UpstreamConnectionTable.Lease: Sendable where Connection: Sendable {}
extension UpstreamConnectionTable.Checkout: Sendable where Connection: Sendable {}

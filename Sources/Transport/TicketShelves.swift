/// Which resumable TLS tickets are kept, per server: the policy of `TLSSessionCache`, apart from OpenSSL.
/// A server's shelf must hold at least as many tickets as handshakes run at once, since each connect
/// takes one and tickets come back in bursts (a busy server finishes handshakes in batches); the shelf
/// is capped per server and the whole cache by a ticket budget, so memory stays bounded whatever the
/// number of servers.
struct TicketShelves<Ticket> {
    /// Tickets kept per server, newest last; past it the server's oldest is dropped.
    let perServer: Int
    /// Tickets kept in all; past it other servers' shelves are emptied, the server just stored to last.
    let budget: Int

    private var shelves: [String: [Ticket]] = [:]
    private(set) var count = 0

    init(perServer: Int, budget: Int) {
        precondition(perServer > 0 && budget >= perServer)
        self.perServer = perServer
        self.budget = budget
    }

    /// Files `ticket` under `server` and returns the tickets dropped to make room.
    mutating func store(_ ticket: Ticket, for server: String) -> [Ticket] {
        var dropped: [Ticket] = []
        shelves[server, default: []].append(ticket)
        count += 1
        if shelves[server]!.count > perServer {
            dropped.append(shelves[server]!.removeFirst())
            count -= 1
        }
        while count > budget, let victim = shelves.keys.first(where: { $0 != server }) {
            let emptied = shelves.removeValue(forKey: victim) ?? []
            count -= emptied.count
            dropped += emptied
        }
        return dropped
    }

    /// Takes the server's newest ticket that `usable` accepts; the unusable ones passed over are
    /// returned for release.
    mutating func take(for server: String, where usable: (Ticket) -> Bool) -> (chosen: Ticket?, unusable: [Ticket]) {
        var unusable: [Ticket] = []
        defer {
            count -= unusable.count
            if shelves[server]?.isEmpty == true { shelves.removeValue(forKey: server) }
        }
        while let candidate = shelves[server]?.popLast() {
            if usable(candidate) {
                count -= 1
                return (candidate, unusable)
            }
            unusable.append(candidate)
        }
        return (nil, unusable)
    }

    func tickets(for server: String) -> Int { shelves[server]?.count ?? 0 }
    var servers: Int { shelves.count }
}

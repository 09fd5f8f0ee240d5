/// The connections an HTTP server holds, at most `capacity` at once. When every slot is taken, the
/// connection that has waited longest for its request head gives way to the new one: a client that is
/// still sending its head after all others arrived is idle or slow on purpose, while a prober sends its
/// head at once. Connections whose request is being answered never give way; when all are, the new one
/// is refused. Pure bookkeeping: the server closes the connections it is told to.
struct HTTPConnectionSlots: Sendable {
    enum Phase: Sendable, Equatable {
        /// Waiting for the request head: may give way to a newer connection.
        case readingHead
        /// The request is being answered.
        case responding
        /// Told to give way; it is being closed and no longer holds a slot.
        case evicted
    }

    /// What happens to a newly accepted connection.
    enum Admission: Sendable, Equatable {
        case admitted(id: UInt64)
        /// Admitted in place of connection `evicted`, which must be closed.
        case admittedEvicting(id: UInt64, evicted: UInt64)
        /// Every slot is answering a request: close the new connection at once.
        case refused
    }

    let capacity: Int
    private var entries: [UInt64: Phase] = [:]
    private var nextId: UInt64 = 1

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Connections that hold a slot (evicted ones, on their way out, do not).
    var occupied: Int { entries.values.filter { $0 != .evicted }.count }

    /// Every connection still registered, evicted ones included.
    var registered: Int { entries.count }

    func phase(of id: UInt64) -> Phase? { entries[id] }

    /// Takes a slot for a new connection, evicting the oldest head reader when all are taken.
    mutating func admit() -> Admission {
        if occupied < capacity {
            return .admitted(id: register())
        }
        // Ids grow with arrival, so the smallest id reading its head is the one that waited longest.
        let oldestReader = entries.filter { $0.value == .readingHead }.min { $0.key < $1.key }
        guard let evicted = oldestReader?.key else { return .refused }
        entries[evicted] = .evicted
        return .admittedEvicting(id: register(), evicted: evicted)
    }

    /// The connection's head arrived: it keeps its slot until released. False when it was evicted
    /// meanwhile (it is being closed, so there is no one to answer).
    mutating func startResponding(_ id: UInt64) -> Bool {
        guard entries[id] == .readingHead else { return false }
        entries[id] = .responding
        return true
    }

    /// The connection is closed.
    mutating func release(_ id: UInt64) {
        entries[id] = nil
    }

    private mutating func register() -> UInt64 {
        let id = nextId
        nextId += 1
        entries[id] = .readingHead
        return id
    }
}

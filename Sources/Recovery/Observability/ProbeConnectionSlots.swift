/// The connections a probe server holds, at most `capacity` at once. When every slot is taken, the
/// connection that has waited longest for its request head gives way to the new one: a client that is
/// still sending its head after all others arrived is idle or slow on purpose, while a prober sends its
/// head at once. Connections whose request is being answered never give way; when all are, the new one
/// is refused. Pure bookkeeping: the server closes and shuts down the sockets it is told to.
struct ProbeConnectionSlots: Sendable {
    enum Phase: Sendable, Equatable {
        /// Waiting for the request head: may give way to a newer connection.
        case readingHead
        /// The request is being answered.
        case responding
        /// Told to give way; its socket is being shut down and it no longer holds a slot.
        case evicted
    }

    /// What happens to a newly accepted connection.
    enum Admission: Sendable, Equatable {
        case admitted(id: UInt64)
        /// Admitted in place of `evictedFD`'s connection, whose socket must be shut down.
        case admittedEvicting(id: UInt64, evictedFD: Int32)
        /// Every slot is answering a request: close the new connection at once.
        case refused
    }

    private struct Entry: Sendable {
        var fd: Int32
        var phase: Phase
    }

    let capacity: Int
    private var entries: [UInt64: Entry] = [:]
    private var nextId: UInt64 = 1

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Connections that hold a slot (evicted ones, on their way out, do not).
    var occupied: Int { entries.values.filter { $0.phase != .evicted }.count }

    /// Every connection still registered, evicted ones included.
    var registered: Int { entries.count }

    func phase(of id: UInt64) -> Phase? { entries[id]?.phase }

    /// Takes a slot for the connection on `fd`, evicting the oldest head reader when all are taken.
    mutating func admit(fd: Int32) -> Admission {
        if occupied < capacity {
            return .admitted(id: register(fd))
        }
        // Ids grow with arrival, so the smallest id reading its head is the one that waited longest.
        let oldestReader = entries.filter { $0.value.phase == .readingHead }.min { $0.key < $1.key }
        guard let (evictedId, evicted) = oldestReader else { return .refused }
        entries[evictedId]?.phase = .evicted
        return .admittedEvicting(id: register(fd), evictedFD: evicted.fd)
    }

    /// The connection's head arrived: it keeps its slot until released. False when it was evicted
    /// meanwhile (its socket is shut down, so there is no one to answer).
    mutating func startResponding(_ id: UInt64) -> Bool {
        guard entries[id]?.phase == .readingHead else { return false }
        entries[id]?.phase = .responding
        return true
    }

    /// The connection is done; its socket may be closed once this returns.
    mutating func release(_ id: UInt64) {
        entries[id] = nil
    }

    private mutating func register(_ fd: Int32) -> UInt64 {
        let id = nextId
        nextId += 1
        entries[id] = Entry(fd: fd, phase: .readingHead)
        return id
    }
}

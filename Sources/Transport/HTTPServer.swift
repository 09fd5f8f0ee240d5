import Dispatch
import Glibc
import Synchronization

/// A small HTTP/1.1 server on a group's event loops: one request per connection (`Connection: close`),
/// bounded by `HTTPServerLimits`, answered by `handler` in a task off the loops. Meant for small control
/// and metrics endpoints and server-sent events, not for bulk traffic. A client that closes (or shuts its
/// sending side) before the answer is out is taken as gone. Nothing here logs, least of all a request target.
public final class HTTPServer: Sendable {
    private let listener: Listener
    private let registry: HTTPConnectionRegistry
    /// The bound port (the real one when bound to port 0).
    public let port: Int
    /// The bound host.
    public let host: String

    /// Binds and starts accepting at once. `handler` runs in a task for each complete request.
    public init(host: String, port: Int, group: EventLoopGroup, limits: HTTPServerLimits = HTTPServerLimits(),
                handler: @escaping @Sendable (HTTPRequest) async -> HTTPReply) throws(TransportError) {
        let registry = HTTPConnectionRegistry(capacity: limits.maxConnections)
        listener = try Listener(host: host, port: port, on: group.loops[0]) { fd, peer in
            let loop = group.next()
            let (admitted, evicted) = registry.admit { claim, onClosed in
                HTTPServerConnection(fd: fd, peer: peer, loop: loop, limits: limits, handler: handler, claim: claim, onClosed: onClosed)
            }
            if let evicted { evicted.loop.execute { evicted.close() } }
            guard let admitted else {
                // Every connection is being answered (or the server is closing): dropped unread.
                Glibc.close(fd)
                return
            }
            loop.execute { admitted.start() }
        }
        self.registry = registry
        self.port = listener.address.port
        self.host = listener.address.host
    }

    /// The connections accepted and not yet closed.
    public var openConnections: Int { registry.count }

    /// Stops accepting and closes every open connection (streams' writers then return false). Idempotent.
    /// Waits (up to a second, in case a loop is gone) until the connections are closed.
    public func close() {
        listener.close()
        let open = registry.closeAll()
        guard !open.isEmpty else { return }
        let done = DispatchGroup()
        for connection in open {
            done.enter()
            let loop = connection.loop
            if loop.inLoop {
                connection.close()
                done.leave()
            } else {
                loop.execute {
                    connection.close()
                    done.leave()
                }
            }
        }
        _ = done.wait(timeout: .now() + 1)
    }
}

/// The open connections of one server, from any thread: admitted on the accepting loop, removed on their
/// own. Which connection gives way when all slots are taken is `HTTPConnectionSlots`'s decision.
private final class HTTPConnectionRegistry: Sendable {
    private struct State {
        var slots: HTTPConnectionSlots
        var connections: [UInt64: HTTPServerConnection] = [:]
        var closed = false
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(slots: HTTPConnectionSlots(capacity: capacity)))
    }

    var count: Int { state.withLock { $0.connections.count } }

    /// Makes and records a connection when a slot is free or one reading its head gives way (returned, to be
    /// closed); nil when every connection is being answered or the server is closing. `claim` tells a
    /// connection whose request is complete whether it still holds its slot.
    func admit(_ make: (_ claim: @escaping @Sendable () -> Bool, _ onClosed: @escaping () -> Void) -> HTTPServerConnection)
        -> (admitted: HTTPServerConnection?, evicted: HTTPServerConnection?) {
        state.withLock { state in
            guard !state.closed else { return (nil, nil) }
            let id: UInt64
            var evicted: HTTPServerConnection?
            switch state.slots.admit() {
            case .refused: return (nil, nil)
            case .admitted(let admitted): id = admitted
            case .admittedEvicting(let admitted, let evictedID):
                id = admitted
                evicted = state.connections[evictedID]
            }
            let connection = make({ [self] in startResponding(id) }, { [self] in remove(id) })
            state.connections[id] = connection
            return (connection, evicted)
        }
    }

    private func startResponding(_ id: UInt64) -> Bool {
        state.withLock { $0.slots.startResponding(id) }
    }

    /// Refuses new connections from now on and returns those still open.
    func closeAll() -> [HTTPServerConnection] {
        state.withLock { state in
            state.closed = true
            return Array(state.connections.values)
        }
    }

    private func remove(_ id: UInt64) {
        state.withLock { state in
            state.connections.removeValue(forKey: id)
            state.slots.release(id)
        }
    }
}

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
        let registry = HTTPConnectionRegistry()
        listener = try Listener(host: host, port: port, on: group.loops[0]) { fd, peer in
            let loop = group.next()
            let admitted = registry.admit(limit: limits.maxConnections) { onClosed in
                HTTPServerConnection(fd: fd, peer: peer, loop: loop, limits: limits, handler: handler, onClosed: onClosed)
            }
            guard let admitted else {
                // Past the limit (or closing): dropped unread, costing nothing more.
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

/// The open connections of one server, from any thread: admitted on the accepting loop, removed on their own.
private final class HTTPConnectionRegistry: Sendable {
    private struct State {
        var connections: [UInt64: HTTPServerConnection] = [:]
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.connections.count } }

    /// Makes and records a connection when there is room and the server is open; nil otherwise.
    func admit(limit: Int, _ make: (_ onClosed: @escaping () -> Void) -> HTTPServerConnection) -> HTTPServerConnection? {
        state.withLock { state in
            guard !state.closed, state.connections.count < limit else { return nil }
            state.nextID &+= 1
            let id = state.nextID
            let connection = make { [self] in remove(id) }
            state.connections[id] = connection
            return connection
        }
    }

    /// Refuses new connections from now on and returns those still open.
    func closeAll() -> [HTTPServerConnection] {
        state.withLock { state in
            state.closed = true
            return Array(state.connections.values)
        }
    }

    private func remove(_ id: UInt64) {
        _ = state.withLock { $0.connections.removeValue(forKey: id) }
    }
}

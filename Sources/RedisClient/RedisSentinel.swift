import ClientSupport
import Synchronization

/// Redis reached through Sentinel: the sentinels to ask and the name of the master they watch.
/// The client follows the Sentinel client guidelines: on every (re)connect it asks the sentinels in turn
/// with a short timeout, the first that answers moves to the front, and the server it names must answer
/// `ROLE` with `master` before any command is sent; a `-READONLY` reply drops the connection, so the next
/// call asks again.
public struct RedisSentinel: Sendable, Equatable, CustomStringConvertible {
    public var servers: [ServerAddress]
    public var masterName: String
    /// The sentinels' own password (their `requirepass`), sent with `AUTH` before the question; nil: a
    /// sentinel that answers `NOAUTH` is offered the server's credentials.
    public var password: String?
    /// How long connecting to and asking one sentinel may take.
    public var timeout: Duration

    public init(servers: [ServerAddress], masterName: String, password: String? = nil, timeout: Duration = .seconds(1)) {
        self.servers = servers
        self.masterName = masterName
        self.password = password
        self.timeout = timeout
    }

    /// The sentinels and the master's name; never the password.
    public var description: String {
        "master '\(masterName)' of sentinels " + servers.map(\.description).joined(separator: ",")
    }
}

/// The sentinels in the order to ask them next: one that answered moves to the front.
final class SentinelOrder: Sendable {
    private let order: Mutex<[ServerAddress]>

    init(_ servers: [ServerAddress]) {
        order = Mutex(servers)
    }

    var current: [ServerAddress] { order.withLock { $0 } }

    func promote(_ server: ServerAddress) {
        order.withLock { servers in
            guard let index = servers.firstIndex(of: server), index > 0 else { return }
            servers.remove(at: index)
            servers.insert(server, at: 0)
        }
    }
}

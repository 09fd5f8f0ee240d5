import COpenSSL
import Synchronization

/// Recent resumable TLS sessions of each server (`host:port`), so that re-opening thousands of sessions
/// to one Xiaozhi skips the certificate exchange and its verification (a resumed TLS 1.3 handshake: no
/// certificate, no signature). Each session ticket is offered once, as TLS 1.3 asks of clients: a server
/// may refuse a ticket it sees twice, and concurrent connects then get distinct tickets (each resumed
/// handshake brings new ones). OpenSSL hands each new session (a ticket the server sent) to
/// `TLSSessionCache.shared` through the client contexts' new-session callback.
final class TLSSessionCache: Sendable {
    static let shared = TLSSessionCache()
    /// Tickets kept per server: above the handshakes a worker runs at once to one Xiaozhi (64 kept
    /// while 256 ran resumed only half the re-opens, `bench tls-open`).
    static let ticketsPerServer = 1024
    /// Tickets kept in all, about 1 KB each.
    static let ticketBudget = 16_384

    /// Owned references (`SSL_SESSION_free` when used, replaced or forgotten).
    private let shelves = Mutex(TicketShelves<SessionReference>(perServer: ticketsPerServer, budget: ticketBudget))

    struct SessionReference: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Takes ownership of `session`, a ticket of the server's.
    func store(_ session: OpaquePointer, for server: String) {
        let dropped = shelves.withLock { $0.store(SessionReference(pointer: session), for: server) }
        for session in dropped { SSL_SESSION_free(session.pointer) }
    }

    /// Offers the server's newest resumable ticket to `ssl` before its handshake, and forgets it.
    func offer(to ssl: OpaquePointer, for server: String) {
        let (chosen, stale) = shelves.withLock { $0.take(for: server) { SSL_SESSION_is_resumable($0.pointer) == 1 } }
        if let chosen {
            _ = SSL_set_session(ssl, chosen.pointer)  // takes its own reference
            SSL_SESSION_free(chosen.pointer)
        }
        for session in stale { SSL_SESSION_free(session.pointer) }
    }
}

/// The key a client connection's sessions are filed under, kept as the `SSL`'s application data so the
/// new-session callback can find it.
final class TLSServerKey {
    let server: String
    init(_ server: String) { self.server = server }
}

/// OpenSSL's new-session callback for client contexts: files the session under the connection's server.
/// Returning 1 keeps the reference OpenSSL handed over.
let tlsNewClientSession: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let raw = SSL_get_ex_data(ssl, 0) else { return 0 }
    let key = Unmanaged<TLSServerKey>.fromOpaque(raw).takeUnretainedValue()
    TLSSessionCache.shared.store(session, for: key.server)
    return 1
}

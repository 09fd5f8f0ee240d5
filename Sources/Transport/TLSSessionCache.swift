import COpenSSL
import Synchronization

/// The last resumable TLS session of each server (`host:port`), so that re-opening thousands of sessions
/// to one Xiaozhi skips the certificate exchange and its verification (a resumed TLS 1.3 handshake: no
/// certificate, no signature). OpenSSL hands each new session (a ticket the server sent) to
/// `TLSSessionCache.shared` through the client contexts' new-session callback.
final class TLSSessionCache: Sendable {
    static let shared = TLSSessionCache()
    /// Servers remembered at most; past it an arbitrary one is forgotten.
    static let capacity = 4096

    /// Owned references (`SSL_SESSION_free` when replaced or forgotten).
    private let sessions = Mutex<[String: SessionReference]>([:])

    struct SessionReference: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Takes ownership of `session` as the server's latest.
    func store(_ session: OpaquePointer, for server: String) {
        let replaced = sessions.withLock { table -> OpaquePointer? in
            var dropped = table.updateValue(SessionReference(pointer: session), forKey: server)?.pointer
            if dropped == nil, table.count > Self.capacity, let victim = table.keys.first(where: { $0 != server }) {
                dropped = table.removeValue(forKey: victim)?.pointer
            }
            return dropped
        }
        if let replaced { SSL_SESSION_free(replaced) }
    }

    /// Offers the server's latest session to `ssl` before its handshake, when it can still be resumed.
    func offer(to ssl: OpaquePointer, for server: String) {
        sessions.withLock { table in
            guard let session = table[server]?.pointer, SSL_SESSION_is_resumable(session) == 1 else { return }
            _ = SSL_set_session(ssl, session)  // takes its own reference
        }
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

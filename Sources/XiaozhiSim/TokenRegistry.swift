import ClientSupport
import WebSocket

/// Identifies one WebSocket session of the simulator.
typealias SessionID = UInt64

/// Which tokens may connect and which session holds each token: like Xiaozhi, a second connection with the
/// same token evicts the first.
struct TokenRegistry: Sendable {
    /// What happens to a new connection.
    enum Admission: Sendable, Hashable {
        /// Accepted; `evicting` is the session that held the token until now (close it with 1000).
        case accepted(evicting: SessionID?)
        /// The token is not in the allowed set, or absent: close with 1008.
        case unknownToken
    }

    /// Allowed tokens; nil accepts any non-empty token.
    let allowedTokens: Set<String>?
    private var holders: [String: SessionID] = [:]
    private var tokensBySession: [SessionID: String] = [:]
    /// Sessions closed because a newer one took their token.
    private(set) var evictions = 0

    init(allowedTokens: Set<String>?) {
        self.allowedTokens = allowedTokens
    }

    /// Admits `session` for `token`, evicting the token's current holder.
    mutating func admit(token: String?, session: SessionID) -> Admission {
        guard let token, !token.isEmpty, allowedTokens?.contains(token) ?? true else { return .unknownToken }
        let previous = holders[token]
        holders[token] = session
        tokensBySession[session] = token
        if let previous {
            tokensBySession[previous] = nil
            evictions += 1
        }
        return .accepted(evicting: previous)
    }

    /// Forgets `session`; its token stays held when a newer session already took it over.
    mutating func remove(session: SessionID) {
        guard let token = tokensBySession.removeValue(forKey: session) else { return }
        if holders[token] == session { holders[token] = nil }
    }

    /// The session holding `token`, if any.
    func holder(of token: String) -> SessionID? {
        holders[token]
    }

    /// The token `session` holds, if it still holds one.
    func token(of session: SessionID) -> String? {
        tokensBySession[session]
    }

    /// Tokens with a live session.
    var connectedTokens: [String] { holders.keys.sorted() }
}

/// A short, stable, non-reversible name for a token, safe to show in status output and logs:
/// the first 12 hex digits of its SHA-1.
func fingerprintOf(_ token: String) -> String {
    String(SHA1.hexDigest(of: Array(token.utf8)).prefix(12))
}

/// What the simulator reports on its status endpoint, as JSON. Tokens appear only as fingerprints.
struct SimulatorStatus: Sendable, Hashable, Codable {
    /// One live session.
    struct Session: Sendable, Hashable, Codable {
        var sessionId: UInt64
        /// `fingerprintOf(token)`: the first 12 hex digits of the token's SHA-1.
        var tokenId: String
        /// ISO-8601 UTC.
        var connectedAt: String
        var mcpPhase: MCPClientScript.Phase
        var protocolVersion: String?
        var serverName: String?
        var tools: [String]
        var pingsSent: Int
        var pingsAnswered: Int
        var pendingRequests: Int
        var lastAnswers: [MCPClientScript.Answer]
        var protocolErrors: [String]
    }

    var connectedCount: Int
    var connectedTokenIds: [String]
    var sessions: [Session]
    /// Sessions admitted since start (evicting ones included).
    var connects: Int
    /// Sessions closed because a newer one took their token.
    var evictions: Int
    /// Upgrades answered with an HTTP error (fault switch, wrong path).
    var handshakeFailures: Int
    /// Sessions closed with 1008 for an unknown or missing token.
    var rejectedTokens: Int
    /// Admitted sessions that ended, for any reason.
    var disconnects: Int
    /// Sessions closed by a token's close-after-open fault.
    var closesAfterOpen: Int
    /// `connects`, `evictions` and `closesAfterOpen` by tokenId, tokens with a zero count left out (at most
    /// `TokenCounter.defaultLimit` tokenIds each; further new ones count in the totals only).
    var connectsByTokenId: [String: Int]
    var evictionsByTokenId: [String: Int]
    var closesAfterOpenByTokenId: [String: Int]
    var faults: FaultSwitches
}

/// The simulator's counters without the session list: what `/counts` serves, cheap to poll while
/// thousands of sessions are held.
struct SimulatorCounts: Sendable, Hashable, Codable {
    var connectedCount: Int
    var connects: Int
    var evictions: Int
    var handshakeFailures: Int
    var rejectedTokens: Int
    var disconnects: Int
    var closesAfterOpen: Int
}

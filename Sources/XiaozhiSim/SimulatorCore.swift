import ClientSupport
import JSON
import Foundation
import WebSocket

/// The simulated Xiaozhi endpoint server, free of I/O: decides on upgrades, admits tokens (evicting a
/// token's previous session), runs one MCP client script per session, applies the fault switches (global and
/// per token), and keeps the counters. The I/O shell feeds it session events and carries out the actions it returns.
struct SimulatorCore: Sendable {
    struct Configuration: Sendable {
        /// Allowed tokens; nil accepts any non-empty token.
        var allowedTokens: Set<String>?
        /// How often each session's MCP client sends `ping`; nil never.
        var mcpPingInterval: Duration?
        /// Request paths served (Xiaozhi's is `/mcp/`); others are answered 404.
        var paths: Set<String> = ["/mcp/", "/mcp"]
    }

    /// How to answer an upgrade request.
    enum HandshakeDecision: Sendable, Hashable {
        case upgrade
        case refuse(status: Int)
    }

    /// What the I/O shell must do.
    enum Action: Sendable, Hashable {
        case send(SessionID, String)
        case close(SessionID, WebSocketCloseCode, reason: String)
    }

    private struct SessionRecord: Sendable {
        var token: String
        /// `fingerprintOf(token)`, computed once: per-token faults and counters are keyed by it.
        var tokenId: String
        var connectedAt: Date
        var script: MCPClientScript
        /// When a timed close-after-open fault is due.
        var closeAt: ContinuousClock.Instant?
        /// A close-after-open was already sent, so later messages or ticks do not send another.
        var closedByFault = false
    }

    /// A session's next ping or timed close. An entry whose session closed or was scheduled anew since is
    /// stale, and `tick` skips it.
    private struct Due: Comparable, Sendable {
        var at: ContinuousClock.Instant
        var session: SessionID
        static func < (a: Due, b: Due) -> Bool { a.at != b.at ? a.at < b.at : a.session < b.session }
    }

    let configuration: Configuration
    var faults = FaultSwitches()
    /// What is due next, earliest first: a tick visits the sessions due, not every session (scanning
    /// 10,000 idle sessions on each wake of the timer kept a third of a core busy).
    private var schedule = MinHeap<Due>()
    /// The one live entry of each session in `schedule`.
    private var scheduledAt: [SessionID: ContinuousClock.Instant] = [:]
    private var registry: TokenRegistry
    private var sessions: [SessionID: SessionRecord] = [:]
    private var nextSessionID: SessionID = 1
    private var connects = 0
    private var handshakeFailures = 0
    private var rejectedTokens = 0
    private var disconnects = 0
    private var closesAfterOpen = 0
    private var connectsByTokenId = TokenCounter()
    private var evictionsByTokenId = TokenCounter()
    private var closesAfterOpenByTokenId = TokenCounter()

    init(configuration: Configuration) {
        self.configuration = configuration
        registry = TokenRegistry(allowedTokens: configuration.allowedTokens)
    }

    /// Answers an upgrade request: the HTTP-status fault first, then the path.
    mutating func decideHandshake(_ request: HTTPRequestHead) -> HandshakeDecision {
        if let status = faults.httpStatus {
            handshakeFailures += 1
            return .refuse(status: status)
        }
        guard configuration.paths.contains(request.path) else {
            handshakeFailures += 1
            return .refuse(status: 404)
        }
        return .upgrade
    }

    /// How long to hold this upgrade request before answering: the token's own delay when it has one,
    /// otherwise the global one.
    func handshakeDelayMilliseconds(for request: HTTPRequestHead) -> Int {
        if !faults.tokens.isEmpty, let token = request.queryValue("token"), !token.isEmpty,
            let delay = faults.tokens[fingerprintOf(token)]?.handshakeDelayMilliseconds
        {
            return delay
        }
        return faults.handshakeDelayMilliseconds
    }

    /// A session finished its upgrade: admit its token (closing an unknown one with 1008 and evicting the
    /// token's previous session with 1000), then start the MCP client. A timed close-after-open fault of the
    /// token starts its clock here.
    mutating func sessionOpened(_ request: HTTPRequestHead, now: ContinuousClock.Instant, wallClock: Date) -> (SessionID, [Action]) {
        let id = nextSessionID
        nextSessionID += 1
        let token = request.queryValue("token")
        switch registry.admit(token: token, session: id) {
        case .unknownToken:
            rejectedTokens += 1
            return (id, [.close(id, .policyViolation, reason: "unknown token")])
        case .accepted(let evicted):
            let token = token ?? ""
            let tokenId = fingerprintOf(token)
            connects += 1
            connectsByTokenId.increment(tokenId)
            var actions: [Action] = []
            if let evicted {
                evictionsByTokenId.increment(tokenId)
                scheduledAt[evicted] = nil
                if sessions.removeValue(forKey: evicted) != nil {
                    disconnects += 1
                    actions.append(.close(evicted, .normalClosure, reason: "replaced by a new connection"))
                }
            }
            var record = SessionRecord(
                token: token, tokenId: tokenId, connectedAt: wallClock, script: MCPClientScript(pingInterval: configuration.mcpPingInterval))
            actions += record.script.start(now: now).map { .send(id, $0) }
            if let after = faults.tokens[tokenId]?.closeAfterOpen?.afterMilliseconds {
                record.closeAt = now + .milliseconds(after)
                // A zero delay closes at once rather than on the shell's next tick.
                if after == 0, let close = closeAfterOpenFault(&record, id: id) { actions.append(close) }
            }
            sessions[id] = record
            scheduleNext(id)
            return (id, actions)
        }
    }

    /// A text message arrived on `session`. When it answers `initialize` and the token has a close-after-open
    /// fault without a delay, the script's replies (`notifications/initialized`, `tools/list`) go out first
    /// and the close follows, so the pool sees a finished MCP initialization before the close.
    mutating func messageReceived(_ text: String, session: SessionID, now: ContinuousClock.Instant) -> [Action] {
        guard var record = sessions[session] else { return [] }
        let phaseBefore = record.script.phase
        var actions: [Action] = record.script.receive(text, now: now).map { .send(session, $0) }
        if phaseBefore == .initializing, record.script.phase != .initializing,
            faults.tokens[record.tokenId]?.closeAfterOpen?.afterMilliseconds == nil,
            let close = closeAfterOpenFault(&record, id: session)
        {
            actions.append(close)
        }
        sessions[session] = record
        // The fault check above may have cancelled a timed close that was the session's next deadline.
        scheduleNext(session)
        return actions
    }

    /// The close a close-after-open fault sends to `record`'s session, counted; nil when the token has no
    /// such fault (any more) or the session was already closed by it.
    private mutating func closeAfterOpenFault(_ record: inout SessionRecord, id: SessionID) -> Action? {
        record.closeAt = nil
        guard !record.closedByFault, let close = faults.tokens[record.tokenId]?.closeAfterOpen else { return nil }
        record.closedByFault = true
        closesAfterOpen += 1
        closesAfterOpenByTokenId.increment(record.tokenId)
        return .close(id, WebSocketCloseCode(UInt16(clamping: close.code)), reason: close.reason)
    }

    /// `session` ended (whoever closed it).
    mutating func sessionClosed(_ session: SessionID) {
        registry.remove(session: session)
        scheduledAt[session] = nil
        if sessions.removeValue(forKey: session) != nil { disconnects += 1 }
    }

    /// Time passed: MCP pings and timed close-after-open faults that are due, in deadline order.
    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        for due in schedule.popWhile({ $0.at <= now }) {
            let id = due.session
            guard scheduledAt[id] == due.at else { continue }
            scheduledAt[id] = nil
            guard sessions[id] != nil else { continue }
            let messages = sessions[id]!.script.tick(now: now)
            actions += messages.map { .send(id, $0) }
            if let closeAt = sessions[id]!.closeAt, now >= closeAt {
                var record = sessions[id]!
                if let close = closeAfterOpenFault(&record, id: id) { actions.append(close) }
                sessions[id] = record
            }
            scheduleNext(id)
        }
        return actions
    }

    /// Gives the session's next deadline an entry, unless it has one for that instant already.
    private mutating func scheduleNext(_ id: SessionID) {
        let at = sessions[id].flatMap(Self.nextDeadline)
        guard at != scheduledAt[id] else { return }
        scheduledAt[id] = at
        if let at { schedule.insert(Due(at: at, session: id)) }
    }

    /// The earlier of a session's next ping and its timed close.
    private static func nextDeadline(_ record: SessionRecord) -> ContinuousClock.Instant? {
        switch (record.script.nextDeadline, record.closeAt) {
        case (let ping?, let close?): min(ping, close)
        case (let ping, let close): ping ?? close
        }
    }

    /// Sends `tools/call` on the session holding `token` (or the token with fingerprint `tokenId`).
    /// Returns the session and request id, nil when no session holds it.
    mutating func callTool(
        token: String?, tokenId: String?, name: String, arguments: JSONValue, now: ContinuousClock.Instant
    ) -> (session: SessionID, requestID: JSONValue, actions: [Action])? {
        guard let session = self.session(token: token, tokenId: tokenId), var record = sessions[session] else { return nil }
        let (requestID, text) = record.script.callTool(name: name, arguments: arguments, now: now)
        sessions[session] = record
        return (session, requestID, [.send(session, text)])
    }

    /// The answer to request `requestID` on `session`, once it arrived.
    func answer(session: SessionID, requestID: JSONValue) -> MCPClientScript.Answer? {
        sessions[session]?.script.answer(to: requestID)
    }

    /// Closes every session (fault switch "drop all") with 1001.
    mutating func dropAll() -> [Action] {
        sessions.keys.sorted().map { .close($0, .goingAway, reason: "dropped by the simulator") }
    }

    /// Closes the sessions of the tokens with these tokenIds with 1001, like `dropAll` for some tokens.
    func drop(tokenIds: Set<String>) -> [Action] {
        sessions.filter { tokenIds.contains($0.value.tokenId) }.keys.sorted().map {
            .close($0, .goingAway, reason: "dropped by the simulator")
        }
    }

    /// The session holding `token`, or the token whose fingerprint is `tokenId`.
    func session(token: String?, tokenId: String?) -> SessionID? {
        if let token { return registry.holder(of: token) }
        if let tokenId {
            return registry.connectedTokens.first { fingerprintOf($0) == tokenId }.flatMap { registry.holder(of: $0) }
        }
        return nil
    }

    /// When the shell's timer should tick next: never later than the earliest ping or timed close due
    /// (earlier when that entry's session has closed since).
    var nextDeadline: ContinuousClock.Instant? { schedule.first?.at }

    func counts() -> SimulatorCounts {
        SimulatorCounts(
            connectedCount: sessions.count, connects: connects, evictions: registry.evictions,
            handshakeFailures: handshakeFailures, rejectedTokens: rejectedTokens, disconnects: disconnects,
            closesAfterOpen: closesAfterOpen)
    }

    func status() -> SimulatorStatus {
        let formatter = ISO8601DateFormatter()
        let live = sessions.keys.sorted().map { id -> SimulatorStatus.Session in
            let record = sessions[id]!
            let script = record.script
            return SimulatorStatus.Session(
                sessionId: id, tokenId: record.tokenId, connectedAt: formatter.string(from: record.connectedAt),
                mcpPhase: script.phase, protocolVersion: script.negotiatedProtocolVersion,
                serverName: script.serverInfo?["name"]?.stringValue, tools: script.toolNames, pingsSent: script.pingsSent,
                pingsAnswered: script.pingsAnswered, pendingRequests: script.pendingCount, lastAnswers: script.answers,
                protocolErrors: script.protocolErrors)
        }
        return SimulatorStatus(
            connectedCount: live.count, connectedTokenIds: live.map(\.tokenId).sorted(), sessions: live, connects: connects,
            evictions: registry.evictions, handshakeFailures: handshakeFailures, rejectedTokens: rejectedTokens,
            disconnects: disconnects, closesAfterOpen: closesAfterOpen, connectsByTokenId: connectsByTokenId.counts,
            evictionsByTokenId: evictionsByTokenId.counts, closesAfterOpenByTokenId: closesAfterOpenByTokenId.counts,
            faults: faults)
    }
}

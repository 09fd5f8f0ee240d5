import JSON
import Foundation
import Testing
import WebSocket
@testable import XiaozhiSim

/// Per-token faults and counters in the pure core: no sockets, explicit clock.
@Suite("Per-token faults")
struct TokenFaultTests {
    let t0 = ContinuousClock.now
    let initializeAnswer =
        #"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2024-11-05","capabilities":{"tools":{}},"serverInfo":{"name":"n"}}}"#

    private func core() -> SimulatorCore {
        SimulatorCore(configuration: .init(allowedTokens: nil, mcpPingInterval: .seconds(5)))
    }

    private func request(token: String?) -> HTTPRequestHead {
        HTTPRequestHead(method: "GET", target: token.map { "/mcp/?token=\($0)" } ?? "/mcp/", headers: ["Host": "localhost"])
    }

    private func open(_ core: inout SimulatorCore, _ token: String, at now: ContinuousClock.Instant? = nil) -> (SessionID, [SimulatorCore.Action]) {
        core.sessionOpened(request(token: token), now: now ?? t0, wallClock: Date())
    }

    private func setFaults(_ core: inout SimulatorCore, _ body: JSONValue) throws {
        core.faults = try core.faults.applying(body)
    }

    private func closes(_ actions: [SimulatorCore.Action]) -> [SimulatorCore.Action] {
        actions.filter { if case .close = $0 { true } else { false } }
    }

    private func revoke(_ token: String, afterMilliseconds: Int? = nil) -> JSONValue {
        var close: [String: JSONValue] = ["code": 1008, "reason": "token revoked"]
        if let afterMilliseconds { close["afterMilliseconds"] = .integer(afterMilliseconds) }
        return ["tokens": JSONValue(fields: [fingerprintOf(token): ["closeAfterOpen": JSONValue(fields: close)]])]
    }

    // MARK: Handshake delay

    @Test("a token's handshake delay replaces the global one for that token only; 0 exempts a token")
    func handshakeDelay() throws {
        var core = core()
        try setFaults(&core, [
            "handshakeDelayMilliseconds": 100,
            "tokens": JSONValue(fields: [fingerprintOf("slow"): ["handshakeDelayMilliseconds": 2000], fingerprintOf("exempt"): ["handshakeDelayMilliseconds": 0]]),
        ])
        #expect(core.handshakeDelayMilliseconds(for: request(token: "slow")) == 2000)
        #expect(core.handshakeDelayMilliseconds(for: request(token: "exempt")) == 0)
        #expect(core.handshakeDelayMilliseconds(for: request(token: "other")) == 100)
        #expect(core.handshakeDelayMilliseconds(for: request(token: nil)) == 100)
        try setFaults(&core, ["tokens": JSONValue(fields: [fingerprintOf("slow"): .null])])
        #expect(core.handshakeDelayMilliseconds(for: request(token: "slow")) == 100)
    }

    // MARK: Close after open

    @Test("close after open: the session is closed with the fault's code right after initialize is answered")
    func closeAfterInitialize() throws {
        var core = core()
        try setFaults(&core, revoke("rev"))
        let (id, opening) = open(&core, "rev")
        #expect(closes(opening).isEmpty)
        let actions = core.messageReceived(initializeAnswer, session: id, now: t0)
        // notifications/initialized and tools/list go out, then the close.
        #expect(actions.count == 3)
        #expect(actions.last == .close(id, .policyViolation, reason: "token revoked"))
        #expect(actions.dropLast().allSatisfy { if case .send(id, _) = $0 { true } else { false } })
        // Later traffic on the closing session sends no second close.
        let later = core.messageReceived(#"{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}"#, session: id, now: t0)
        #expect(closes(later).isEmpty)
        let status = core.status()
        #expect(status.closesAfterOpen == 1)
        #expect(status.closesAfterOpenByTokenId == [fingerprintOf("rev"): 1])
        #expect(core.counts().closesAfterOpen == 1)
    }

    @Test("close after open: an initialize answered with an error also ends the exchange and closes")
    func closeAfterFailedInitialize() throws {
        var core = core()
        try setFaults(&core, revoke("rev"))
        let (id, _) = open(&core, "rev")
        let actions = core.messageReceived(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"no"}}"#, session: id, now: t0)
        #expect(actions == [.close(id, .policyViolation, reason: "token revoked")])
    }

    @Test("close after open repeats for every new session of the token until cleared, and spares other tokens")
    func closeAfterOpenRepeatsUntilCleared() throws {
        var core = core()
        try setFaults(&core, revoke("rev"))
        let (other, _) = open(&core, "fine")
        #expect(closes(core.messageReceived(initializeAnswer, session: other, now: t0)).isEmpty)
        for round in 1...3 {
            let (id, _) = open(&core, "rev")
            #expect(closes(core.messageReceived(initializeAnswer, session: id, now: t0)) == [.close(id, .policyViolation, reason: "token revoked")])
            core.sessionClosed(id)
            #expect(core.status().closesAfterOpen == round)
        }
        try setFaults(&core, ["tokens": JSONValue(fields: [fingerprintOf("rev"): .null])])
        let (id, _) = open(&core, "rev")
        #expect(closes(core.messageReceived(initializeAnswer, session: id, now: t0)).isEmpty)
        let status = core.status()
        #expect(status.closesAfterOpen == 3)
        #expect(status.closesAfterOpenByTokenId == [fingerprintOf("rev"): 3])
        #expect(status.connectsByTokenId == [fingerprintOf("rev"): 4, fingerprintOf("fine"): 1])
        #expect(Set(status.connectedTokenIds) == [fingerprintOf("rev"), fingerprintOf("fine")])
    }

    @Test("a timed close after open fires on the tick at the deadline, once, and sets the next deadline")
    func timedClose() throws {
        var core = core()
        try setFaults(&core, revoke("rev", afterMilliseconds: 500))
        let (id, opening) = open(&core, "rev")
        #expect(closes(opening).isEmpty)
        // The initialize answer does not close a timed fault's session.
        #expect(closes(core.messageReceived(initializeAnswer, session: id, now: t0 + .milliseconds(10))).isEmpty)
        #expect(core.nextDeadline == t0 + .milliseconds(500))
        #expect(closes(core.tick(now: t0 + .milliseconds(499))).isEmpty)
        #expect(core.tick(now: t0 + .milliseconds(500)) == [.close(id, .policyViolation, reason: "token revoked")])
        #expect(closes(core.tick(now: t0 + .seconds(1))).isEmpty)
        #expect(core.nextDeadline == t0 + .seconds(5))
        #expect(core.status().closesAfterOpen == 1)
    }

    @Test("a timed close of 0 ms closes in the opening actions, after initialize")
    func immediateClose() throws {
        var core = core()
        try setFaults(&core, revoke("rev", afterMilliseconds: 0))
        let (id, actions) = open(&core, "rev")
        #expect(actions.count == 2)
        #expect(actions.last == .close(id, .policyViolation, reason: "token revoked"))
        #expect(closes(core.tick(now: t0 + .seconds(1))).isEmpty)
        #expect(core.status().closesAfterOpen == 1)
    }

    @Test("clearing a timed close before its deadline spares the session")
    func timedCloseCleared() throws {
        var core = core()
        try setFaults(&core, revoke("rev", afterMilliseconds: 500))
        _ = open(&core, "rev")
        try setFaults(&core, ["tokens": .null])
        #expect(closes(core.tick(now: t0 + .seconds(1))).isEmpty)
        #expect(core.status().closesAfterOpen == 0)
    }

    @Test("a session whose timed close is cleared before initialize is answered keeps its pings")
    func clearedTimedCloseKeepsPings() throws {
        var core = core()
        try setFaults(&core, revoke("rev", afterMilliseconds: 2000))
        let (id, _) = open(&core, "rev")
        try setFaults(&core, ["tokens": .null])
        #expect(closes(core.messageReceived(initializeAnswer, session: id, now: t0 + .milliseconds(10))).isEmpty)
        #expect(core.tick(now: t0 + .seconds(2)).isEmpty)
        let pings = core.tick(now: t0 + .seconds(5))
        #expect(pings.count == 1 && pings.allSatisfy { if case .send(id, _) = $0 { true } else { false } }, "\(pings)")
        #expect(core.nextDeadline == t0 + .seconds(10))
    }

    // MARK: Drop

    @Test("drop by tokenId closes only those tokens' sessions with 1001")
    func dropByTokenId() {
        var core = core()
        let (a, _) = open(&core, "a")
        _ = open(&core, "b")
        let (c, _) = open(&core, "c")
        let actions = core.drop(tokenIds: [fingerprintOf("a"), fingerprintOf("c"), fingerprintOf("not-connected")])
        #expect(actions == [.close(a, .goingAway, reason: "dropped by the simulator"), .close(c, .goingAway, reason: "dropped by the simulator")])
        #expect(core.drop(tokenIds: []).isEmpty)
    }

    // MARK: Counters

    @Test("connects and evictions are counted by tokenId, tokens without evictions left out")
    func countersByTokenId() {
        var core = core()
        let (first, _) = open(&core, "t1")
        _ = open(&core, "t2")
        _ = open(&core, "t1")
        core.sessionClosed(first)
        _ = open(&core, "t1")
        let status = core.status()
        #expect(status.evictions == 2)
        #expect(status.evictionsByTokenId == [fingerprintOf("t1"): 2])
        #expect(status.connectsByTokenId == [fingerprintOf("t1"): 3, fingerprintOf("t2"): 1])
    }

    @Test("a token counter keeps at most its limit of tokenIds and still counts the ones it holds")
    func counterLimit() {
        var counter = TokenCounter(limit: 2)
        for id in ["a", "b", "c", "a", "c"] { counter.increment(id) }
        #expect(counter.counts == ["a": 2, "b": 1])
        #expect(counter["c"] == 0)
    }

    @Test("the status with per-token counters and faults encodes to JSON and back, without the tokens")
    func statusJSON() throws {
        var core = core()
        try setFaults(&core, revoke("secret-token-1"))
        let (id, _) = open(&core, "secret-token-1")
        _ = core.messageReceived(initializeAnswer, session: id, now: t0)
        let text = String(decoding: try JSONEncoder().encode(core.status()), as: UTF8.self)
        #expect(!text.contains("secret-token-1"))
        #expect(try JSONDecoder().decode(SimulatorStatus.self, from: Data(text.utf8)) == core.status())
    }
}

@Suite("Fault switch changes")
struct FaultChangeTests {
    let id = fingerprintOf("tok")

    @Test("a token's faults are set, shown with every field, and cleared by null")
    func setShowClear() throws {
        let body: JSONValue = [
            "tokens": JSONValue(fields: [id: ["handshakeDelayMilliseconds": 1500, "closeAfterOpen": ["code": 4001, "reason": "bye", "afterMilliseconds": 20]]]),
        ]
        let faults = try FaultSwitches().applying(body)
        #expect(
            faults.tokens[id]
                == FaultSwitches.TokenFaults(
                    handshakeDelayMilliseconds: 1500, closeAfterOpen: FaultSwitches.CloseAfterOpen(code: 4001, reason: "bye", afterMilliseconds: 20)))
        let shown = try? JSONValue(parsing: String(decoding: try JSONEncoder().encode(faults), as: UTF8.self))
        #expect(shown?["tokens"]?.isSemanticallyEqual(to: JSONValue(fields: [id: ["handshakeDelayMilliseconds": 1500, "closeAfterOpen": ["code": 4001, "reason": "bye", "afterMilliseconds": 20]]])) == true)
        let onlyClose = try faults.applying(["tokens": JSONValue(fields: [id: ["closeAfterOpen": ["code": 1008]]])])
        #expect(onlyClose.tokens[id] == FaultSwitches.TokenFaults(closeAfterOpen: FaultSwitches.CloseAfterOpen(code: 1008)))
        let shownClose = try? JSONValue(parsing: String(decoding: try JSONEncoder().encode(onlyClose), as: UTF8.self))
        #expect(shownClose?["tokens"]?[id]?.isSemanticallyEqual(to: ["handshakeDelayMilliseconds": .null, "closeAfterOpen": ["code": 1008, "reason": "", "afterMilliseconds": .null]]) == true)
        #expect(try faults.applying(["tokens": JSONValue(fields: [id: .null])]).tokens.isEmpty)
        #expect(try faults.applying(["tokens": JSONValue(fields: [id: [:]])]).tokens.isEmpty)
        #expect(try faults.applying(["tokens": .null]).tokens.isEmpty)
        // Fields absent from a body leave the other switches alone.
        #expect(try faults.applying(["refuseNew": true]).tokens == faults.tokens)
    }

    @Test(
        "a bad value is refused with a message naming the field",
        arguments: [
            (#"{"tokens": {"TOK": null}}"#, "tokens: key TOK"),
            (#"{"tokens": []}"#, "tokens must be"),
            (#"{"tokens": {"ID": 5}}"#, "tokens.ID must be an object"),
            (#"{"tokens": {"ID": {"handshakeDelayMilliseconds": -1}}}"#, "tokens.ID.handshakeDelayMilliseconds"),
            (#"{"tokens": {"ID": {"handshakeDelayMilliseconds": 600001}}}"#, "tokens.ID.handshakeDelayMilliseconds"),
            (#"{"tokens": {"ID": {"handshakeDelay": 5}}}"#, "tokens.ID.handshakeDelay is not a known field"),
            (#"{"tokens": {"ID": {"closeAfterOpen": true}}}"#, "tokens.ID.closeAfterOpen must be"),
            (#"{"tokens": {"ID": {"closeAfterOpen": {"reason": "x"}}}}"#, "tokens.ID.closeAfterOpen.code"),
            (#"{"tokens": {"ID": {"closeAfterOpen": {"code": 1006}}}}"#, "tokens.ID.closeAfterOpen.code"),
            (#"{"tokens": {"ID": {"closeAfterOpen": {"code": 5000}}}}"#, "tokens.ID.closeAfterOpen.code"),
            (#"{"tokens": {"ID": {"closeAfterOpen": {"code": 1008, "reason": 7}}}}"#, "tokens.ID.closeAfterOpen.reason"),
            (#"{"tokens": {"ID": {"closeAfterOpen": {"code": 1008, "afterMilliseconds": "soon"}}}}"#, "tokens.ID.closeAfterOpen.afterMilliseconds"),
            (#"{"tokens": {"ID": {"closeAfterOpen": {"code": 1008, "after": 5}}}}"#, "tokens.ID.closeAfterOpen.after is not a known field"),
            (#"{"token": {}}"#, "unknown field token"),
            (#"{"refuseNew": 1}"#, "refuseNew"),
            (#"{"handshakeDelayMilliseconds": 600001}"#, "handshakeDelayMilliseconds"),
            (#"{"httpStatus": 101}"#, "httpStatus"),
            (#"[1]"#, "expected a JSON object"),
        ])
    func refused(body: String, message: String) throws {
        let id = fingerprintOf("tok")
        let json = try JSONValue(parsing: body.replacingOccurrences(of: "\"ID\"", with: "\"\(id)\""))
        let before = FaultSwitches(tokens: [id: FaultSwitches.TokenFaults(handshakeDelayMilliseconds: 1)])
        let error = #expect(throws: FaultSwitches.InvalidChange.self) { _ = try before.applying(json) }
        #expect(error?.description.contains(message.replacingOccurrences(of: "ID", with: id)) == true, "\(String(describing: error))")
    }

    @Test("a reason longer than a close frame can carry is refused; 123 bytes fit")
    func reasonLength() throws {
        let fits: JSONValue = ["tokens": JSONValue(fields: [id: ["closeAfterOpen": ["code": 1008, "reason": .string(String(repeating: "r", count: 123))]]])]
        #expect(try FaultSwitches().applying(fits).tokens[id]?.closeAfterOpen?.reason.utf8.count == 123)
        let tooLong: JSONValue = ["tokens": JSONValue(fields: [id: ["closeAfterOpen": ["code": 1008, "reason": .string(String(repeating: "r", count: 124))]]])]
        #expect(throws: FaultSwitches.InvalidChange.self) { _ = try FaultSwitches().applying(tooLong) }
    }

    @Test("no more than the limit of tokenIds may hold faults")
    func entryLimit() throws {
        var entries: [String: JSONValue] = [:]
        for index in 0...FaultSwitches.maxTokenEntries {
            entries[fingerprintOf("t\(index)")] = ["handshakeDelayMilliseconds": 1]
        }
        #expect(throws: FaultSwitches.InvalidChange.self) { _ = try FaultSwitches().applying(["tokens": JSONValue(fields: entries)]) }
        entries.removeValue(forKey: fingerprintOf("t0"))
        #expect(try FaultSwitches().applying(["tokens": JSONValue(fields: entries)]).tokens.count == FaultSwitches.maxTokenEntries)
    }
}

import JSON
import Foundation
import Testing
import WebSocket
@testable import XiaozhiSim

@Suite("Simulator core")
struct SimulatorCoreTests {
    let t0 = ContinuousClock.now

    private func core(tokens: Set<String>? = ["t1", "t2"]) -> SimulatorCore {
        SimulatorCore(configuration: .init(allowedTokens: tokens, mcpPingInterval: .seconds(5)))
    }

    private func request(_ target: String) -> HTTPRequestHead {
        HTTPRequestHead(method: "GET", target: target, headers: ["Host": "localhost"])
    }

    @Test("an upgrade to /mcp/ is accepted; another path is answered 404 and counted")
    func paths() {
        var core = core()
        #expect(core.decideHandshake(request("/mcp/?token=t1")) == .upgrade)
        #expect(core.decideHandshake(request("/mcp?token=t1")) == .upgrade)
        #expect(core.decideHandshake(request("/other?token=t1")) == .refuse(status: 404))
        #expect(core.status().handshakeFailures == 1)
    }

    @Test("the HTTP status fault answers every upgrade with that status", arguments: [401, 503])
    func httpStatusFault(status: Int) {
        var core = core()
        core.faults.httpStatus = status
        #expect(core.decideHandshake(request("/mcp/?token=t1")) == .refuse(status: status))
        #expect(core.status().handshakeFailures == 1)
    }

    @Test("a session with an unknown token is closed with 1008 and not counted as connected")
    func unknownToken() {
        var core = core()
        let (id, actions) = core.sessionOpened(request("/mcp/?token=nope"), now: t0, wallClock: Date())
        #expect(actions == [.close(id, .policyViolation, reason: "unknown token")])
        let status = core.status()
        #expect(status.connectedCount == 0)
        #expect(status.rejectedTokens == 1)
        #expect(status.connects == 0)
    }

    @Test("an admitted session starts the MCP client with initialize")
    func admitted() {
        var core = core()
        let (id, actions) = core.sessionOpened(request("/mcp/?token=t1"), now: t0, wallClock: Date())
        #expect(actions.count == 1)
        guard case .send(let target, let text) = actions.first else {
            Issue.record("expected a send")
            return
        }
        #expect(target == id)
        #expect((try? JSONValue(parsing: text))?["method"] == "initialize")
        #expect(core.status().connectedCount == 1)
        #expect(core.status().connects == 1)
    }

    @Test("a second session with the same token closes the first with 1000 and counts an eviction")
    func eviction() {
        var core = core()
        let (first, _) = core.sessionOpened(request("/mcp/?token=t1"), now: t0, wallClock: Date())
        let (second, actions) = core.sessionOpened(request("/mcp/?token=t1"), now: t0, wallClock: Date())
        #expect(actions.first == .close(first, .normalClosure, reason: "replaced by a new connection"))
        core.sessionClosed(first)
        let status = core.status()
        #expect(status.evictions == 1)
        #expect(status.connectedCount == 1)
        #expect(status.sessions.map(\.sessionId) == [second])
        #expect(status.connects == 2)
        #expect(status.disconnects == 1)
    }

    @Test("messages reach the session's MCP client and its replies go back to that session")
    func routing() {
        var core = core()
        let (id, _) = core.sessionOpened(request("/mcp/?token=t1"), now: t0, wallClock: Date())
        let reply = core.messageReceived(
            #"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2024-11-05","capabilities":{"tools":{}},"serverInfo":{"name":"n"}}}"#,
            session: id, now: t0)
        #expect(reply.count == 2)
        #expect(reply.allSatisfy { if case .send(id, _) = $0 { true } else { false } })
        #expect(core.status().sessions.first?.mcpPhase == .listingTools)
        #expect(core.status().sessions.first?.serverName == "n")
    }

    @Test("tick sends each session's due ping")
    func ticks() {
        var core = core()
        let (a, _) = core.sessionOpened(request("/mcp/?token=t1"), now: t0, wallClock: Date())
        let (b, _) = core.sessionOpened(request("/mcp/?token=t2"), now: t0, wallClock: Date())
        #expect(core.tick(now: t0 + .seconds(4)).isEmpty)
        let actions = core.tick(now: t0 + .seconds(5))
        let targets = actions.compactMap { if case .send(let id, _) = $0 { id } else { nil } }
        #expect(targets == [a, b])
        #expect(core.nextDeadline == t0 + .seconds(10))
    }

    @Test("sessions opened at different times are each pinged at their own interval, a closed one never")
    func pingsFollowEachSessionsOwnDeadline() {
        var core = core(tokens: ["t1", "t2", "t3"])
        let (a, _) = core.sessionOpened(request("/mcp/?token=t1"), now: t0, wallClock: Date())
        let (b, _) = core.sessionOpened(request("/mcp/?token=t2"), now: t0 + .seconds(2), wallClock: Date())
        let (c, _) = core.sessionOpened(request("/mcp/?token=t3"), now: t0 + .seconds(3), wallClock: Date())
        core.sessionClosed(c)
        let pinged = { (actions: [SimulatorCore.Action]) in actions.compactMap { if case .send(let id, _) = $0 { id } else { nil } } }
        #expect(core.nextDeadline == t0 + .seconds(5))
        #expect(pinged(core.tick(now: t0 + .seconds(5))) == [a])
        #expect(core.nextDeadline == t0 + .seconds(7))
        #expect(pinged(core.tick(now: t0 + .seconds(8))) == [b])
        #expect(pinged(core.tick(now: t0 + .seconds(9))).isEmpty)
        #expect(pinged(core.tick(now: t0 + .seconds(13))) == [a, b])
        #expect(core.status().sessions.map(\.pingsSent) == [2, 2])
    }

    @Test("a tool call goes to the session holding the token, found by token or fingerprint")
    func toolCall() {
        var core = core()
        let (id, _) = core.sessionOpened(request("/mcp/?token=t2"), now: t0, wallClock: Date())
        let byToken = core.callTool(token: "t2", tokenId: nil, name: "x", arguments: [:], now: t0)
        #expect(byToken?.session == id)
        let byFingerprint = core.callTool(token: nil, tokenId: fingerprintOf("t2"), name: "x", arguments: [:], now: t0)
        #expect(byFingerprint?.session == id)
        #expect(core.callTool(token: "t1", tokenId: nil, name: "x", arguments: [:], now: t0) == nil)
    }

    @Test("drop all closes every session with 1001")
    func dropAll() {
        var core = core()
        let (a, _) = core.sessionOpened(request("/mcp/?token=t1"), now: t0, wallClock: Date())
        let (b, _) = core.sessionOpened(request("/mcp/?token=t2"), now: t0, wallClock: Date())
        #expect(core.dropAll() == [.close(a, .goingAway, reason: "dropped by the simulator"), .close(b, .goingAway, reason: "dropped by the simulator")])
    }

    @Test("the status encodes to JSON with fingerprints and never the tokens")
    func statusJSON() throws {
        var core = core(tokens: nil)
        _ = core.sessionOpened(request("/mcp/?token=very-secret-token"), now: t0, wallClock: Date())
        let text = String(decoding: try JSONEncoder().encode(core.status()), as: UTF8.self)
        #expect(!text.contains("very-secret-token"))
        #expect(text.contains(fingerprintOf("very-secret-token")))
        let decoded = try JSONDecoder().decode(SimulatorStatus.self, from: Data(text.utf8))
        #expect(decoded == core.status())
    }
}

@Suite("Fault switches")
struct FaultSwitchesTests {
    @Test("every switch appears in the JSON, httpStatus as null when off")
    func encodesEverySwitch() throws {
        let text = String(decoding: try JSONEncoder().encode(FaultSwitches()), as: UTF8.self)
        #expect((try? JSONValue(parsing: text))?.isSemanticallyEqual(to: ["refuseNew": false, "handshakeDelayMilliseconds": 0, "httpStatus": .null, "tokens": [:]]) == true)
        let on = FaultSwitches(refuseNew: true, handshakeDelayMilliseconds: 250, httpStatus: 503)
        #expect(try JSONDecoder().decode(FaultSwitches.self, from: JSONEncoder().encode(on)) == on)
    }
}

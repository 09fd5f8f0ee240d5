import JSON
import Foundation
import Testing
@testable import XiaozhiSim

@Suite("MCP client script")
struct MCPClientScriptTests {
    let t0 = ContinuousClock.now

    private func json(_ text: String) -> JSONValue {
        (try? JSONValue(parsing: text)) ?? .null
    }

    private func answer(_ id: Int, _ result: JSONValue) -> String {
        JSONValue.object(["jsonrpc": "2.0", "id": .integer(id), "result": result]).jsonText
    }

    private let initializeResult: JSONValue = [
        "protocolVersion": "2024-11-05", "capabilities": ["tools": [:]], "serverInfo": ["name": "endpoint-a", "version": "1"],
    ]

    /// A script past initialize, with its tools/list request (id 2) outstanding.
    private func initialized() -> (MCPClientScript, [String]) {
        var script = MCPClientScript(pingInterval: .seconds(10))
        _ = script.start(now: t0)
        let sent = script.receive(answer(1, initializeResult), now: t0)
        return (script, sent)
    }

    @Test("Xiaozhi speaks first: initialize with protocol version 2024-11-05 and client info")
    func initializeFirst() {
        var script = MCPClientScript(pingInterval: nil)
        let sent = script.start(now: t0).map(json)
        #expect(sent.count == 1)
        #expect(sent[0]["jsonrpc"] == "2.0")
        #expect(sent[0]["method"] == "initialize")
        #expect(sent[0]["id"] == 1)
        #expect(sent[0]["params"]?["protocolVersion"] == "2024-11-05")
        #expect(sent[0]["params"]?["clientInfo"]?["name"] == "xiaozhi-sim")
        #expect(script.phase == .initializing)
        #expect(script.start(now: t0).isEmpty)
    }

    @Test("after initialize is answered: notifications/initialized, then tools/list")
    func afterInitialize() {
        let (script, sent) = initialized()
        let messages = sent.map(json)
        #expect(messages.count == 2)
        #expect(messages[0]["method"] == "notifications/initialized")
        #expect(messages[0]["id"] == nil)
        #expect(messages[1]["method"] == "tools/list")
        #expect(messages[1]["params"] == nil)
        #expect(script.phase == .listingTools)
        #expect(script.negotiatedProtocolVersion == "2024-11-05")
        #expect(script.serverInfo?["name"] == "endpoint-a")
    }

    @Test("tools/list follows nextCursor until the last page, then the script is ready with every tool")
    func pagination() {
        var (script, _) = initialized()
        let next = script.receive(answer(2, ["tools": [["name": "a"]], "nextCursor": "page-2"]), now: t0).map(json)
        #expect(next.count == 1)
        #expect(next[0]["method"] == "tools/list")
        #expect(next[0]["params"]?["cursor"] == "page-2")
        #expect(script.phase == .listingTools)
        #expect(script.receive(answer(3, ["tools": [["name": "b"], ["name": "c"]]]), now: t0).isEmpty)
        #expect(script.phase == .ready)
        #expect(script.toolNames == ["a", "b", "c"])
    }

    @Test("a server that keeps returning a cursor is followed at most 100 pages")
    func cursorLoopBounded() {
        var (script, _) = initialized()
        var id = 2
        var requests = 0
        while true {
            let sent = script.receive(answer(id, ["tools": [], "nextCursor": "again"]), now: t0)
            if sent.isEmpty { break }
            requests += 1
            id += 1
        }
        #expect(requests == MCPClientScript.maxToolPages - 1)
        #expect(script.phase == .ready)
    }

    @Test("a ping is sent every interval once started, and its answer is counted")
    func pings() {
        var (script, _) = initialized()
        #expect(script.tick(now: t0 + .seconds(9)).isEmpty)
        let ping = script.tick(now: t0 + .seconds(10)).map(json)
        #expect(ping.count == 1)
        #expect(ping[0]["method"] == "ping")
        #expect(script.tick(now: t0 + .seconds(11)).isEmpty)
        #expect(script.pingsSent == 1)
        guard let id = ping[0]["id"]?.intValue else {
            Issue.record("ping without an integer id")
            return
        }
        _ = script.receive(answer(id, [:]), now: t0 + .seconds(10))
        #expect(script.pingsAnswered == 1)
        #expect(script.protocolErrors.isEmpty)
        #expect(script.tick(now: t0 + .seconds(20)).count == 1)
    }

    @Test("no ping is sent before the session started or when pings are off")
    func noPing() {
        var idle = MCPClientScript(pingInterval: .seconds(1))
        #expect(idle.tick(now: t0 + .seconds(5)).isEmpty)
        var off = MCPClientScript(pingInterval: nil)
        _ = off.start(now: t0)
        #expect(off.tick(now: t0 + .seconds(1000)).isEmpty)
    }

    @Test("a ping answered with something other than {} is a protocol error")
    func pingAnsweredWrongly() {
        var (script, _) = initialized()
        let ping = script.tick(now: t0 + .seconds(10)).map(json)
        guard let id = ping[0]["id"]?.intValue else { return }
        _ = script.receive(answer(id, ["unexpected": true]), now: t0)
        #expect(script.protocolErrors == ["ping answered with a non-empty result"])
    }

    @Test("tools/call sends the name and arguments and records the result under its id")
    func toolCall() {
        var (script, _) = initialized()
        let (id, text) = script.callTool(name: "lamp_on", arguments: ["room": "kitchen"], now: t0)
        let request = json(text)
        #expect(request["method"] == "tools/call")
        #expect(request["params"]?["name"] == "lamp_on")
        #expect(request["params"]?["arguments"]?["room"] == "kitchen")
        #expect(request["id"] == id)
        let result: JSONValue = ["content": [["type": "text", "text": "on"]], "isError": false]
        _ = script.receive(JSONValue.object(["jsonrpc": "2.0", "id": id, "result": result]).jsonText, now: t0 + .milliseconds(30))
        let recorded = script.answer(to: id)
        #expect(recorded?.ok == true)
        #expect(recorded?.method == "tools/call")
        #expect(recorded?.body == result)
        #expect(recorded?.latencyMilliseconds == 30)
    }

    @Test("an error answer is recorded as not ok with the error object")
    func errorAnswer() {
        var (script, _) = initialized()
        let (id, _) = script.callTool(name: "missing", arguments: [:], now: t0)
        let error: JSONValue = ["code": -32602, "message": "unknown tool"]
        _ = script.receive(JSONValue.object(["jsonrpc": "2.0", "id": id, "error": error]).jsonText, now: t0)
        #expect(script.answer(to: id)?.ok == false)
        #expect(script.answer(to: id)?.body == error)
    }

    @Test("an initialize error leaves the script failed")
    func initializeFails() {
        var script = MCPClientScript(pingInterval: nil)
        _ = script.start(now: t0)
        let sent = script.receive(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"no"}}"#, now: t0)
        #expect(sent.isEmpty)
        #expect(script.phase == .failed)
    }

    @Test("a ping request from the server is answered with {} and its id")
    func serverPing() {
        var (script, _) = initialized()
        let reply = script.receive(#"{"jsonrpc":"2.0","id":"abc","method":"ping"}"#, now: t0).map(json)
        #expect(reply == [["jsonrpc": "2.0", "id": "abc", "result": [:]]])
    }

    @Test("an unknown request from the server is answered with -32601")
    func unknownServerRequest() {
        var (script, _) = initialized()
        let reply = script.receive(#"{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage"}"#, now: t0).map(json)
        #expect(reply.first?["error"]?["code"] == -32601)
        #expect(reply.first?["id"] == 7)
    }

    @Test("a tools/list_changed notification lists the tools again once ready")
    func listChanged() {
        var (script, _) = initialized()
        _ = script.receive(answer(2, ["tools": [["name": "a"]]]), now: t0)
        let sent = script.receive(#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#, now: t0).map(json)
        #expect(sent.first?["method"] == "tools/list")
        _ = script.receive(answer(3, ["tools": [["name": "z"]]]), now: t0)
        #expect(script.toolNames == ["z"])
    }

    @Test("other notifications are ignored")
    func otherNotifications() {
        var (script, _) = initialized()
        #expect(script.receive(#"{"jsonrpc":"2.0","method":"notifications/message","params":{}}"#, now: t0).isEmpty)
        #expect(script.protocolErrors.isEmpty)
    }

    @Test("answers to unknown ids, non-JSON text and missing jsonrpc are recorded as protocol errors")
    func protocolErrors() {
        var (script, _) = initialized()
        _ = script.receive(answer(99, [:]), now: t0)
        _ = script.receive("not json", now: t0)
        _ = script.receive(#"{"id":2,"result":{"tools":[]}}"#, now: t0)
        #expect(script.protocolErrors == ["an answer to unknown request id 99", "a message that is not JSON", "a message without \"jsonrpc\": \"2.0\""])
    }

    @Test("a batch of answers is handled message by message")
    func batch() {
        var (script, _) = initialized()
        let (id, _) = script.callTool(name: "x", arguments: [:], now: t0)
        let batch = JSONValue.array([
            ["jsonrpc": "2.0", "id": 2, "result": ["tools": [["name": "a"]]]],
            ["jsonrpc": "2.0", "id": id, "result": ["content": []]],
        ])
        _ = script.receive(batch.jsonText, now: t0)
        #expect(script.phase == .ready)
        #expect(script.answer(to: id)?.ok == true)
    }

    @Test("the answer history keeps the latest 20")
    func historyBounded() {
        var (script, _) = initialized()
        for _ in 0..<30 {
            let (id, _) = script.callTool(name: "x", arguments: [:], now: t0)
            _ = script.receive(JSONValue.object(["jsonrpc": "2.0", "id": id, "result": [:]]).jsonText, now: t0)
        }
        #expect(script.answers.count == MCPClientScript.historyLimit)
        #expect(script.pendingCount == 1)
    }
}

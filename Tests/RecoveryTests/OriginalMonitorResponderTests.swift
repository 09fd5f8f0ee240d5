import JSON
import MCP
import Testing

/// The imitation's MCP answers are what a Xiaozhi client needs to keep a session up: every request is
/// answered with its id, notifications and responses are not.
@Suite struct OriginalMonitorResponderTests {
    let responder = OriginalMonitorResponder(endpointName: "endpoint-1")

    private func parsed(_ text: String?) throws -> JSONValue {
        try JSONValue(parsing: try #require(text))
    }

    @Test func initializeIsAnsweredWithTheClientsVersionToolsAndTheName() throws {
        let reply = try parsed(responder.reply(to: #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{}}}"#))
        #expect(reply["id"] == .integer(1))
        #expect(reply["result"]?["protocolVersion"]?.stringValue == "2024-11-05")
        #expect(reply["result"]?["capabilities"]?["tools"]?.isObject == true)
        #expect(reply["result"]?["serverInfo"]?["name"]?.stringValue == "endpoint-1")
    }

    @Test func pingAndToolsListAreAnsweredWithTheirIds() throws {
        let ping = try parsed(responder.reply(to: #"{"jsonrpc":"2.0","id":"p-7","method":"ping"}"#))
        #expect(ping["id"]?.stringValue == "p-7")
        #expect(ping["result"] == .object([]))
        let list = try parsed(responder.reply(to: #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#))
        #expect(list["result"]?["tools"] == .array([]))
    }

    @Test func anUnknownMethodGetsMethodNotFound() throws {
        let reply = try parsed(responder.reply(to: #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x"}}"#))
        #expect(reply["error"]?["code"]?.intValue == -32601)
        #expect(reply["id"] == .integer(3))
    }

    @Test func notificationsAndResponsesGetNoAnswer() {
        #expect(responder.reply(to: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#) == nil)
        #expect(responder.reply(to: #"{"jsonrpc":"2.0","id":9,"result":{}}"#) == nil)
    }

    @Test func garbageGetsAParseError() throws {
        let reply = try parsed(responder.reply(to: "not json"))
        #expect(reply["error"]?["code"]?.intValue == -32700)
    }
}

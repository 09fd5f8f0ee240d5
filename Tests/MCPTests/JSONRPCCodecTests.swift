import Testing
@testable import MCP

@Suite struct JSONRPCCodecTests {
    @Test(arguments: [
        "12345678901234567890123456789", "\"12345678901234567890123456789\"", "\"007\"", "-1.5e3", "0",
        "\"a\\\"b\\u00e9\"", "\"\"",
    ])
    func keepsTheIdVerbatim(rawId: String) throws {
        let message = JSONRPCCodec.decode(#"{"jsonrpc":"2.0","id":\#(rawId),"method":"ping"}"#)
        guard case .success(.request(let id, "ping", nil)) = message else {
            Issue.record("not decoded as a request: \(message)")
            return
        }
        #expect(id.rawJSON == rawId)
        #expect(JSONRPCCodec.resultResponse(id: id, rawResult: "{}") == #"{"jsonrpc":"2.0","id":\#(rawId),"result":{}}"#)
    }

    @Test func tellsAStringIdFromANumberId() throws {
        guard case .success(.request(let stringId, _, _)) = JSONRPCCodec.decode(#"{"jsonrpc":"2.0","id":"1","method":"a"}"#),
              case .success(.request(let numberId, _, _)) = JSONRPCCodec.decode(#"{"jsonrpc":"2.0","id":1,"method":"a"}"#) else {
            Issue.record("not decoded")
            return
        }
        #expect(stringId != numberId)
        #expect(stringId.isString && !numberId.isString)
    }

    @Test func decodesANotification() {
        let message = JSONRPCCodec.decode(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        #expect(message == .success(.notification(method: "notifications/initialized", params: nil)))
    }

    @Test func decodesAResultResponseKeepingItsText() throws {
        let text = #"{"jsonrpc":"2.0","id":7,"result":{ "content" : [ {"type":"text","text":"x"} ], "n": 1e400 }}"#
        guard case .success(.response(let id, .result(_, let raw))) = JSONRPCCodec.decode(text) else {
            Issue.record("not a response")
            return
        }
        #expect(id == JSONRPCID(7))
        #expect(raw == #"{ "content" : [ {"type":"text","text":"x"} ], "n": 1e400 }"#)
    }

    @Test func decodesAnErrorResponse() {
        let message = JSONRPCCodec.decode(#"{"jsonrpc":"2.0","id":"a","error":{"code":-32602,"message":"bad","data":{"x":1}}}"#)
        let expected = JSONRPCError(code: -32602, message: "bad", data: .object(["x": .integer(1)]))
        #expect(message == .success(.response(id: JSONRPCID(string: "a"), outcome: .error(expected))))
    }

    @Test func answersParseErrorWithNullId() {
        guard case .failure(let failure) = JSONRPCCodec.decode(#"{"jsonrpc":"2.0","id":1,"method":"#) else {
            Issue.record("decoded")
            return
        }
        #expect(failure.error.code == -32700)
        #expect(failure.id == nil)
        #expect(JSONRPCCodec.errorResponse(id: failure.id, error: failure.error).hasPrefix(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"#))
    }

    @Test(arguments: [
        #"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        #""ping""#,
        #"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
        #"{"id":1,"method":"ping"}"#,
        #"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":1,"method":5}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}"#,
        #"{"jsonrpc":"2.0","id":1}"#,
        #"{"jsonrpc":"2.0","id":1,"error":{"message":"no code"}}"#,
    ])
    func answersInvalidRequest(text: String) {
        guard case .failure(let failure) = JSONRPCCodec.decode(text) else {
            Issue.record("decoded \(text)")
            return
        }
        #expect(failure.error.code == -32600)
    }

    @Test func answersInvalidRequestToTheIdWhenItCouldBeRead() {
        guard case .failure(let failure) = JSONRPCCodec.decode(#"{"jsonrpc":"1.0","id":"x-1","method":"ping"}"#) else {
            Issue.record("decoded")
            return
        }
        #expect(failure.id?.rawJSON == #""x-1""#)
    }

    @Test func encodesRequestsAndNotifications() {
        #expect(JSONRPCCodec.request(id: JSONRPCID(3), method: "tools/call", params: .object(["name": .string("a")]))
            == #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"a"}}"#)
        #expect(JSONRPCCodec.notification(method: "notifications/initialized", params: nil)
            == #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    }
}

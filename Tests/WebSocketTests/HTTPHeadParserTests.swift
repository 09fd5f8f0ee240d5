import Testing
import WebSocket

@Suite("HTTP head parser")
struct HTTPHeadParserTests {
    @Test("a response head is parsed once the blank line arrives; later bytes are returned")
    func responseWithTrailingBytes() throws {
        var parser = HTTPHeadParser()
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        #expect(try parser.parseResponse(Array(head.utf8.prefix(20))) == .needMoreBytes)
        let result = try parser.parseResponse(Array(head.utf8.dropFirst(20)) + [0x81, 0x00])
        guard case .complete(let response, let remaining) = result else {
            Issue.record("expected a complete head")
            return
        }
        #expect(response.status == 101)
        #expect(response.reason == "Switching Protocols")
        #expect(response.headers["upgrade"] == "websocket")
        #expect(remaining == [0x81, 0x00])
    }

    @Test("a head split at every byte still parses")
    func byteByByte() throws {
        let head = Array("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n".utf8)
        var parser = HTTPHeadParser()
        for byte in head.dropLast() {
            #expect(try parser.parseResponse([byte]) == .needMoreBytes)
        }
        guard case .complete(let response, let remaining) = try parser.parseResponse([head.last!]) else {
            Issue.record("expected a complete head")
            return
        }
        #expect(response.status == 503)
        #expect(response.headers["retry-after"] == "5")
        #expect(remaining.isEmpty)
    }

    @Test("header names match any case and values are trimmed")
    func headerLookup() throws {
        var parser = HTTPHeadParser()
        guard case .complete(let response, _) = try parser.parseResponse(Array("HTTP/1.1 200 OK\r\nX-Thing:   a b  \r\nx-thing: c\r\n\r\n".utf8)) else {
            Issue.record("expected a complete head")
            return
        }
        #expect(response.headers["X-THING"] == "a b")
        #expect(response.headers.values("x-Thing") == ["a b", "c"])
    }

    @Test("only CR LF ends a line: a lone CR or LF stays in its value, and non-ASCII values survive")
    func linesEndAtCRLFOnly() throws {
        var parser = HTTPHeadParser()
        let text = "HTTP/1.1 101 Switching Protocols\r\nX-A: one\ntwo\r\nX-B: 小智\rz\r\nX-C: 🎛️\r\n\r\nrest"
        guard case .complete(let response, let remaining) = try parser.parseResponse(Array(text.utf8)) else {
            Issue.record("expected a complete head")
            return
        }
        #expect(response.status == 101)
        #expect(response.reason == "Switching Protocols")
        #expect(response.headers["x-a"] == "one\ntwo")
        #expect(response.headers["x-b"] == "小智\rz")
        #expect(response.headers["x-c"] == "🎛️")
        #expect(remaining == Array("rest".utf8))
    }

    @Test("a head larger than the limit is refused before its end arrives")
    func headTooLarge() {
        var parser = HTTPHeadParser(maxHeadSize: 64)
        #expect(throws: WebSocketHandshakeError.headTooLarge(limit: 64)) {
            try parser.parseResponse(Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 100)).utf8))
        }
    }

    @Test("a complete head over the limit is refused too")
    func completeHeadTooLarge() {
        var parser = HTTPHeadParser(maxHeadSize: 32)
        #expect(throws: WebSocketHandshakeError.headTooLarge(limit: 32)) {
            try parser.parseResponse(Array("HTTP/1.1 200 OK\r\nX-Long: 0123456789\r\n\r\n".utf8))
        }
    }

    @Test("malformed status lines are rejected", arguments: [
        "HTTP/1.1 abc Nope\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n", "HTTP/1.1 99 Low\r\n\r\n", "\r\n\r\n", "HTTP/1.1\r\n\r\n",
    ])
    func malformedStatusLine(text: String) {
        var parser = HTTPHeadParser()
        #expect(throws: WebSocketHandshakeError.self) { try parser.parseResponse(Array(text.utf8)) }
    }

    @Test("a header line without a colon is rejected")
    func headerWithoutColon() {
        var parser = HTTPHeadParser()
        #expect(throws: WebSocketHandshakeError.malformedHead("header line without a name")) {
            try parser.parseResponse(Array("HTTP/1.1 200 OK\r\nbroken\r\n\r\n".utf8))
        }
    }

    @Test("a request head gives method, target, version and the decoded query")
    func request() throws {
        var parser = HTTPHeadParser()
        let text = "GET /mcp/?token=a%2Bb&x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
        guard case .complete(let request, let remaining) = try parser.parseRequest(Array(text.utf8)) else {
            Issue.record("expected a complete head")
            return
        }
        #expect(request.method == "GET")
        #expect(request.target == "/mcp/?token=a%2Bb&x=1")
        #expect(request.path == "/mcp/")
        #expect(request.queryValue("token") == "a+b")
        #expect(request.queryValue("x") == "1")
        #expect(request.queryValue("missing") == nil)
        #expect(remaining.isEmpty)
    }

    @Test("a malformed request line is rejected")
    func malformedRequestLine() {
        var parser = HTTPHeadParser()
        #expect(throws: WebSocketHandshakeError.malformedHead("invalid request line")) {
            try parser.parseRequest(Array("GET /x\r\n\r\n".utf8))
        }
    }
}

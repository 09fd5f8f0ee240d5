import Testing
import WebSocket

@Suite("Server handshake")
struct ServerHandshakeTests {
    private func request(_ lines: [String], requestLine: String = "GET /mcp/?token=t1 HTTP/1.1") -> [UInt8] {
        Array((requestLine + "\r\n" + lines.map { $0 + "\r\n" }.joined() + "\r\n").utf8)
    }

    private let goodLines = [
        "Host: localhost:9000", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
    ]

    private func parse(_ bytes: [UInt8]) throws -> HTTPRequestHead {
        var handshake = WebSocketServerHandshake()
        guard case .request(let head, _) = try handshake.receive(bytes) else {
            throw WebSocketHandshakeError.malformedHead("incomplete")
        }
        return head
    }

    private func refusal(_ bytes: [UInt8]) throws -> Int? {
        do {
            _ = try WebSocketServerHandshake.validate(try parse(bytes))
            return nil
        } catch let error as WebSocketHandshakeError {
            if case .invalidRequest(let status, _) = error { return status }
            return nil
        }
    }

    @Test("a valid upgrade request yields its key and the token in the query")
    func validRequest() throws {
        let head = try parse(request(goodLines))
        #expect(try WebSocketServerHandshake.validate(head) == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(head.queryValue("token") == "t1")
    }

    @Test("a request arriving in pieces is parsed once complete, with bytes after it kept")
    func incremental() throws {
        let bytes = request(goodLines) + [0x88, 0x80]
        var handshake = WebSocketServerHandshake()
        #expect(try handshake.receive(bytes.prefix(30)) == .needMoreBytes)
        guard case .request(_, let remaining) = try handshake.receive(bytes.dropFirst(30)) else {
            Issue.record("expected a request")
            return
        }
        #expect(remaining == [0x88, 0x80])
    }

    @Test("the 101 answer carries the accept value of RFC 6455 section 1.3")
    func acceptResponse() {
        let text = String(decoding: WebSocketServerHandshake.acceptResponse(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), as: UTF8.self)
        #expect(
            text == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    }

    @Test("the server's 101 satisfies the client's validation")
    func clientAcceptsServerAnswer() throws {
        var client = WebSocketClientHandshake(url: try WebSocketURL("ws://localhost:9000/mcp/?token=t1"))
        let head = try parse(client.requestBytes)
        let key = try WebSocketServerHandshake.validate(head)
        guard case .upgraded = try client.receive(WebSocketServerHandshake.acceptResponse(forKey: key)) else {
            Issue.record("expected an upgrade")
            return
        }
    }

    @Test("an error answer is a complete HTTP response the client reports with its status", arguments: [401, 503])
    func errorResponse(status: Int) throws {
        let bytes = WebSocketServerHandshake.errorResponse(status: status, body: "no")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 \(status) \(WebSocketServerHandshake.reasonPhrase(status))\r\n"))
        #expect(text.contains("Content-Length: 2\r\n"))
        #expect(text.hasSuffix("\r\n\r\nno"))
        var client = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"))
        #expect(throws: WebSocketHandshakeError.unexpectedStatus(status: status, reason: WebSocketServerHandshake.reasonPhrase(status))) {
            try client.receive(bytes)
        }
    }

    @Test("a method other than GET is refused with 405")
    func wrongMethod() throws {
        #expect(try refusal(request(goodLines, requestLine: "POST /mcp/ HTTP/1.1")) == 405)
    }

    @Test("HTTP/1.0 is refused with 400")
    func oldVersion() throws {
        #expect(try refusal(request(goodLines, requestLine: "GET / HTTP/1.0")) == 400)
    }

    @Test("a missing Host, Upgrade, Connection or key is refused with 400", arguments: ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key"])
    func missingHeader(name: String) throws {
        #expect(try refusal(request(goodLines.filter { !$0.hasPrefix(name + ":") })) == 400)
    }

    @Test("a key that is not 16 bytes of base64 is refused with 400")
    func badKey() throws {
        let lines = goodLines.filter { !$0.hasPrefix("Sec-WebSocket-Key") } + ["Sec-WebSocket-Key: c2hvcnQ="]
        #expect(try refusal(request(lines)) == 400)
    }

    @Test("a version other than 13 is refused with 426 and the answer names version 13")
    func badVersion() throws {
        let lines = goodLines.filter { !$0.hasPrefix("Sec-WebSocket-Version") } + ["Sec-WebSocket-Version: 8"]
        #expect(try refusal(request(lines)) == 426)
        let text = String(decoding: WebSocketServerHandshake.errorResponse(status: 426), as: UTF8.self)
        #expect(text.contains("Sec-WebSocket-Version: 13\r\n"))
    }
}

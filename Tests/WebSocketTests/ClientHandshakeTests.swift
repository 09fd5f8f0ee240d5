import Testing
import WebSocket

@Suite("Client handshake")
struct ClientHandshakeTests {
    private let key = "dGhlIHNhbXBsZSBub25jZQ=="

    private func response(status: String = "101 Switching Protocols", _ headers: [String]) -> [UInt8] {
        Array(("HTTP/1.1 \(status)\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n").utf8)
    }

    private var goodHeaders: [String] {
        ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]
    }

    @Test("the request carries the target, Host, Upgrade, Connection, key and version 13")
    func requestBytes() throws {
        let url = try WebSocketURL("wss://api.xiaozhi.me/mcp/?token=abc")
        let handshake = WebSocketClientHandshake(url: url, key: key)
        let text = String(decoding: handshake.requestBytes, as: UTF8.self)
        #expect(
            text
                == "GET /mcp/?token=abc HTTP/1.1\r\nHost: api.xiaozhi.me\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    }

    @Test("the Host header carries a non-default port and brackets an IPv6 host")
    func hostHeader() throws {
        let handshake = WebSocketClientHandshake(url: try WebSocketURL("ws://[::1]:8080/"), key: key)
        #expect(String(decoding: handshake.requestBytes, as: UTF8.self).contains("\r\nHost: [::1]:8080\r\n"))
    }

    @Test("extra headers follow the standard ones")
    func extraHeaders() throws {
        let handshake = WebSocketClientHandshake(
            url: try WebSocketURL("ws://h/"), extraHeaders: ["Authorization": "Bearer x"], key: key)
        #expect(String(decoding: handshake.requestBytes, as: UTF8.self).hasSuffix("Sec-WebSocket-Version: 13\r\nAuthorization: Bearer x\r\n\r\n"))
    }

    @Test("a fresh key is 16 random bytes in base64, different every time")
    func randomKey() throws {
        let url = try WebSocketURL("ws://h/")
        let first = WebSocketClientHandshake(url: url)
        let second = WebSocketClientHandshake(url: url)
        #expect(WebSocketAccept.isValidKey(first.key))
        #expect(first.key != second.key)
    }

    @Test("a valid 101 upgrades and hands over the bytes after the head")
    func upgrade() throws {
        var handshake = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        let bytes = response(goodHeaders) + [0x81, 0x02, 0x68, 0x69]
        #expect(try handshake.receive(bytes.prefix(10)) == .needMoreBytes)
        guard case .upgraded(let head, let remaining) = try handshake.receive(bytes.dropFirst(10)) else {
            Issue.record("expected an upgrade")
            return
        }
        #expect(head.status == 101)
        #expect(remaining == [0x81, 0x02, 0x68, 0x69])
    }

    @Test("header values are matched without regard to case or extra tokens")
    func lenientTokens() throws {
        var handshake = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        let headers = ["upgrade: WebSocket", "connection: keep-alive, UPGRADE", "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]
        guard case .upgraded = try handshake.receive(response(headers)) else {
            Issue.record("expected an upgrade")
            return
        }
    }

    @Test("a non-101 answer throws with the HTTP status", arguments: [
        ("401 Unauthorized", 401, true), ("403 Forbidden", 403, true), ("404 Not Found", 404, true),
        ("500 Internal Server Error", 500, false), ("502 Bad Gateway", 502, false), ("503 Service Unavailable", 503, false),
        ("429 Too Many Requests", 429, false), ("200 OK", 200, false),
    ])
    func unexpectedStatus(statusLine: String, status: Int, permanent: Bool) throws {
        var handshake = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        do {
            _ = try handshake.receive(response(status: statusLine, ["Content-Length: 0"]))
            Issue.record("expected an error")
        } catch {
            #expect(error.httpStatus == status)
            #expect(error.isPermanent == permanent)
            #expect(error.classification == (permanent ? .permanent : .transient))
        }
    }

    @Test("a missing Upgrade header is rejected")
    func missingUpgrade() throws {
        var handshake = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        #expect(throws: WebSocketHandshakeError.missingUpgradeHeader) {
            try handshake.receive(response(["Connection: Upgrade", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]))
        }
    }

    @Test("a missing Connection header is rejected")
    func missingConnection() throws {
        var handshake = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        #expect(throws: WebSocketHandshakeError.missingConnectionHeader) {
            try handshake.receive(response(["Upgrade: websocket", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]))
        }
    }

    @Test("a wrong or missing accept value is rejected")
    func wrongAccept() throws {
        var wrong = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        #expect(throws: WebSocketHandshakeError.invalidAccept) {
            try wrong.receive(response(["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: AAAA"]))
        }
        var missing = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        #expect(throws: WebSocketHandshakeError.invalidAccept) {
            try missing.receive(response(["Upgrade: websocket", "Connection: Upgrade"]))
        }
    }

    @Test("an extension the client never offered is rejected")
    func unrequestedExtension() throws {
        var handshake = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        #expect(throws: WebSocketHandshakeError.unrequestedExtension("extension")) {
            try handshake.receive(response(goodHeaders + ["Sec-WebSocket-Extensions: permessage-deflate"]))
        }
    }

    @Test("a subprotocol the client never offered is rejected; an offered one is accepted")
    func subprotocols() throws {
        var unoffered = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), key: key)
        #expect(throws: WebSocketHandshakeError.unrequestedExtension("subprotocol")) {
            try unoffered.receive(response(goodHeaders + ["Sec-WebSocket-Protocol: mcp"]))
        }
        var offered = WebSocketClientHandshake(url: try WebSocketURL("ws://h/"), extraHeaders: ["Sec-WebSocket-Protocol": "a, mcp"], key: key)
        guard case .upgraded = try offered.receive(response(goodHeaders + ["Sec-WebSocket-Protocol: mcp"])) else {
            Issue.record("expected an upgrade")
            return
        }
    }

    @Test("errors describing a failed handshake never contain header values")
    func errorDescription() {
        let error = WebSocketHandshakeError.unexpectedStatus(status: 401, reason: "Unauthorized")
        #expect(error.description == "handshake answered HTTP 401 Unauthorized instead of 101")
    }
}

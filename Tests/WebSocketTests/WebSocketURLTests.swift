import Testing
import WebSocket

@Suite("WebSocket URL")
struct WebSocketURLTests {
    private func reason(_ address: String) -> WebSocketURLError.Reason? {
        do {
            _ = try WebSocketURL(address)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("a wss address with a token keeps its path and query byte for byte")
    func xiaozhiAddress() throws {
        let token = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOjF9.a-b_c%2Bd=="
        let url = try WebSocketURL("wss://api.xiaozhi.me/mcp/?token=\(token)")
        #expect(url.scheme == .wss)
        #expect(url.host == "api.xiaozhi.me")
        #expect(url.port == 443)
        #expect(url.requestTarget == "/mcp/?token=\(token)")
        #expect(url.path == "/mcp/")
        #expect(url.query == "token=\(token)")
        #expect(url.isSecure)
    }

    @Test("ws defaults to port 80 and wss to 443")
    func defaultPorts() throws {
        #expect(try WebSocketURL("ws://example.com/").port == 80)
        #expect(try WebSocketURL("wss://example.com/").port == 443)
    }

    @Test("an explicit port is used and appears in the Host header when not the default")
    func explicitPort() throws {
        let url = try WebSocketURL("ws://127.0.0.1:8765/mcp")
        #expect(url.host == "127.0.0.1")
        #expect(url.port == 8765)
        #expect(url.hostHeader == "127.0.0.1:8765")
        #expect(try WebSocketURL("wss://example.com:443/").hostHeader == "example.com")
    }

    @Test("an IPv6 literal is unbracketed in host and bracketed in the Host header")
    func ipv6Literal() throws {
        let url = try WebSocketURL("ws://[::1]:9001/mcp/?token=t")
        #expect(url.host == "::1")
        #expect(url.port == 9001)
        #expect(url.isIPv6)
        #expect(url.hostHeader == "[::1]:9001")
        #expect(try WebSocketURL("wss://[2001:db8::8a2e:370:7334]/").hostHeader == "[2001:db8::8a2e:370:7334]")
        #expect(try WebSocketURL("ws://[::ffff:192.0.2.1]/").host == "::ffff:192.0.2.1")
        #expect(try WebSocketURL("ws://[1:2:3:4:5:6:7:8]/").port == 80)
    }

    @Test("a missing path becomes '/', and a bare query gets '/' in front")
    func emptyPath() throws {
        #expect(try WebSocketURL("ws://example.com").requestTarget == "/")
        #expect(try WebSocketURL("ws://example.com?token=x").requestTarget == "/?token=x")
        #expect(try WebSocketURL("ws://example.com:81").requestTarget == "/")
    }

    @Test("the scheme and host are case-insensitive; the path and query keep their case")
    func caseHandling() throws {
        let url = try WebSocketURL("WSS://API.Example.COM/Mcp/?Token=AbC")
        #expect(url.scheme == .wss)
        #expect(url.host == "api.example.com")
        #expect(url.requestTarget == "/Mcp/?Token=AbC")
    }

    @Test("surrounding whitespace is ignored")
    func surroundingWhitespace() throws {
        #expect(try WebSocketURL("  ws://example.com/x \n").requestTarget == "/x")
    }

    @Test("the redacted form hides every query value")
    func redacted() throws {
        let url = try WebSocketURL("wss://api.xiaozhi.me/mcp/?token=secret.jwt.value&agent=7")
        #expect(url.redacted == "wss://api.xiaozhi.me/mcp/?token=***&agent=***")
        #expect(!url.description.contains("secret"))
        #expect(try WebSocketURL("ws://h:81/p").redacted == "ws://h:81/p")
    }

    @Test("a combining mark after a separator neither hides it from the parser nor the secret from the redaction")
    func combiningMarks() throws {
        let query = try WebSocketURL("wss://h.example/mcp/?\u{301}token=SECRET")
        #expect(query.path == "/mcp/")
        #expect(query.requestTarget == "/mcp/?%CC%81token=SECRET")
        #expect(!query.redacted.contains("SECRET"))
        #expect(reason("wss://user:secret@\u{301}host.example/mcp") == .userInfoNotAllowed)
        do {
            _ = try WebSocketURL("wss://user:secret@\u{301}host.example/mcp")
        } catch {
            #expect(!error.description.contains("secret"), "\(error)")
        }
        #expect(reason("wss://h.example/mcp#\u{301}frag") == .fragmentNotAllowed)
        #expect(reason("wss://h\u{e9}.example/mcp") == .invalidHost)
        #expect(try WebSocketURL("wss://h.example/\u{5C0F}\u{667A}/").requestTarget == "/%E5%B0%8F%E6%99%BA/")
    }

    @Test("the absolute string round-trips the address")
    func absoluteString() throws {
        let address = "wss://api.xiaozhi.me/mcp/?token=abc"
        #expect(try WebSocketURL(address).absoluteString == address)
    }

    @Test("http, https and other schemes are unsupported", arguments: ["http://example.com/", "https://example.com/", "ftp://x/"])
    func unsupportedSchemes(address: String) {
        let scheme = String(address.prefix { $0 != ":" })
        #expect(reason(address) == .unsupportedScheme(scheme))
    }

    @Test("a scheme with a colon but no slashes is reported as unsupported")
    func mailtoLike() {
        #expect(reason("mailto:someone@example.com") == .unsupportedScheme("mailto"))
    }

    @Test("an address without a scheme is malformed")
    func missingScheme() {
        #expect(reason("example.com/mcp") == .missingScheme)
        #expect(reason("") == .missingScheme)
        #expect(reason("://example.com") == .missingScheme)
    }

    @Test("malformed addresses give one clear reason", arguments: [
        ("ws://", WebSocketURLError.Reason.emptyHost),
        ("ws:///mcp", .emptyHost),
        ("ws://:80/", .emptyHost),
        ("ws://exa mple.com/", .invalidCharacter),
        ("ws://example.com/a b", .invalidCharacter),
        ("ws://exa$mple.com/", .invalidHost),
        ("ws://.example.com/", .invalidHost),
        ("ws://example..com/", .invalidHost),
        ("ws://example.com:/", .invalidPort),
        ("ws://example.com:0/", .invalidPort),
        ("ws://example.com:65536/", .invalidPort),
        ("ws://example.com:80a/", .invalidPort),
        ("ws://example.com:-1/", .invalidPort),
        ("ws://[::1/", .invalidIPv6Literal),
        ("ws://[::1]x/", .invalidIPv6Literal),
        ("ws://[fe80::1::2]/", .invalidIPv6Literal),
        ("ws://[12345::]/", .invalidIPv6Literal),
        ("ws://[1:2:3:4:5:6:7:8:9]/", .invalidIPv6Literal),
        ("ws://[1:2:3:4:5:6:7]/", .invalidIPv6Literal),
        ("ws://[::1.2.3.256]/", .invalidIPv6Literal),
        ("ws://[]/", .invalidIPv6Literal),
        ("ws://[::1]:99999/", .invalidPort),
        ("ws://user:pass@example.com/", .userInfoNotAllowed),
        ("ws://example.com/mcp#frag", .fragmentNotAllowed),
    ])
    func malformed(address: String, expected: WebSocketURLError.Reason) {
        #expect(reason(address) == expected)
    }

    @Test("an error never contains the query or the user info")
    func errorIsRedacted() {
        do {
            _ = try WebSocketURL("ws://user:hunter2@example.com/mcp/?token=supersecret")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("supersecret"))
            #expect(!error.description.contains("hunter2"))
            #expect(error.redactedAddress == "ws://***@example.com/mcp/?***")
        }
        do {
            _ = try WebSocketURL("ws://[::1/mcp/?token=supersecret")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("supersecret"))
            #expect(error.description.contains("ws://[::1/mcp/"))
        }
    }

    @Test("an unsupported scheme is flagged as such")
    func unsupportedSchemeFlag() {
        do {
            _ = try WebSocketURL("https://example.com/?token=x")
            Issue.record("expected an error")
        } catch {
            #expect(error.isUnsupportedScheme)
            #expect(!error.description.contains("token=x"))
        }
    }
}

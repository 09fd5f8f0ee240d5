import ClientSupport
import Testing
@testable import Recovery

@Suite struct LogRedactionTests {
    @Test func masksThePasswordOfAURL() {
        let line = Redaction.text("cannot reach amqp://pool:s3cret@rabbit:5672/%2f now")
        #expect(line == "cannot reach amqp://pool:***@rabbit:5672/%2f now")
    }

    @Test func masksATokenQueryParameter() {
        let line = Redaction.text("connect wss://api.xiaozhi.me/mcp/?token=eyJhbGciOi.abc.def&x=1 failed")
        #expect(line == "connect wss://api.xiaozhi.me/mcp/?token=***&x=1 failed")
    }

    @Test func masksBearerValues() {
        let line = Redaction.text("upstream said: Authorization: Bearer abc.def.ghi, go away")
        #expect(!line.contains("abc.def.ghi"))
        #expect(line.contains("Bearer ***"))
    }

    @Test func aCombiningMarkAfterASeparatorDoesNotHideTheSecret() {
        let userinfo = Redaction.text("cannot reach amqp://pool:s3cret@\u{301}rabbit:5672/ now")
        #expect(!userinfo.contains("s3cret"), "\(userinfo)")
        let query = Redaction.text("connect wss://h/mcp/?token=\u{301}eyJ.abc failed")
        #expect(!query.contains("eyJ.abc"), "\(query)")
        let bearer = Redaction.text("Authorization: Bearer \u{301}abc.def")
        #expect(!bearer.contains("abc.def"), "\(bearer)")
    }

    @Test func findsASecretAmongOrdinaryMetadataWithoutAnAddress() {
        #expect(Redaction.text("lock taken attempt=3 token=abc.def fence=1") == "lock taken attempt=3 token=*** fence=1")
        #expect(Redaction.text("attempt=3 API_KEY=k1 done") == "attempt=3 API_KEY=*** done")
        #expect(Redaction.text("attempt=3 upstream said basic dXNlcg==") == "attempt=3 upstream said basic ***")
        #expect(Redaction.text("fence=1 BEARER=x Bearer abc") == "fence=1 BEARER=x Bearer ***")
        // A Kelvin sign lowercases to "k": the name is still a secret's.
        #expect(Redaction.text("attempt=1 to\u{212A}en=abc") == "attempt=1 to\u{212A}en=***")
    }

    @Test func leavesOrdinaryTextAlone() {
        let text = "Found 3 enabled servers in database but missing from Redis - attempting recovery"
        #expect(Redaction.text(text) == text)
        #expect(Redaction.text("attempt=3 reason=missing") == "attempt=3 reason=missing")
        #expect(Redaction.text("fence=1 keys=4 monkey=2 tokens=5") == "fence=1 keys=4 monkey=2 tokens=5")
    }
}

@Suite struct PoolLogHandlerTests {
    @Test func jsonLinesCarryLevelMessageAndRedactedMetadata() throws {
        let sink = LogSink.capturing()
        var handler = PoolLogHandler(label: "worker", format: .json, level: .info, sink: sink)
        handler[metadataKey: "address"] = "wss://h/mcp/?token=secret-token"
        handler.log(event: .init(level: .warning, message: "Acquired distributed lock for server 42", metadata: ["server": "42"], source: "t", file: #file, function: #function, line: #line))
        let line = try #require(sink.lines.first)
        #expect(line.hasSuffix("\n"))
        #expect(line.contains(#""level":"warning""#))
        #expect(line.contains(#""message":"Acquired distributed lock for server 42""#))
        #expect(line.contains(#""server":"42""#))
        #expect(!line.contains("secret-token"))
    }

    @Test func textLinesPutMetadataAfterTheMessage() throws {
        let sink = LogSink.capturing()
        let handler = PoolLogHandler(label: "scheduler", format: .text, level: .info, sink: sink)
        handler.log(event: .init(level: .info, message: "cycle done", metadata: ["missing": "0"], source: "t", file: #file, function: #function, line: #line))
        let line = try #require(sink.lines.first)
        #expect(line.contains(" info scheduler: cycle done missing=0"))
    }
}

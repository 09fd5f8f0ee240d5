import Testing
@testable import MCP

@Suite struct ServerSentEventParserTests {
    @Test func parsesEventsSplitAcrossChunks() throws {
        var parser = ServerSentEventParser()
        let text = "event: endpoint\ndata: /messages/?session_id=1\n\nevent: message\ndata: {\"a\":\ndata: 1}\n\n"
        var events: [ServerSentEvent] = []
        for byte in text.utf8 { events += try parser.feed([byte]) }
        #expect(events == [
            ServerSentEvent(type: "endpoint", data: "/messages/?session_id=1"),
            ServerSentEvent(type: "message", data: "{\"a\":\n1}"),
        ])
    }

    @Test func eventsCompletedBeforeALimitInTheSameChunkAreStillReturned() throws {
        var parser = ServerSentEventParser(maximumLineBytes: 16)
        let events = try parser.feed(Array("data: a\n\ndata: 0123456789abcdef\n\n".utf8))
        #expect(events.map(\.data) == ["a"])
        #expect(parser.failure?.limit == .line)
        #expect(throws: ServerSentEventLimitError.self) { try parser.feed(Array("data: b\n\n".utf8)) }
    }

    @Test(arguments: [1, 2, 64])
    func aLeadingByteOrderMarkIsDroppedEvenSplitAcrossChunks(step: Int) throws {
        var parser = ServerSentEventParser()
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("data: a\n\n".utf8)
        var events: [ServerSentEvent] = []
        var index = 0
        while index < bytes.count {
            events += try parser.feed(Array(bytes[index..<min(bytes.count, index + step)]))
            index += step
        }
        #expect(events == [ServerSentEvent(type: "message", data: "a")])
    }

    @Test func aPartialByteOrderMarkIsKeptAsText() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed([0xEF, 0xBB] + Array("x\ndata: a\n\n".utf8))
        #expect(events == [ServerSentEvent(type: "message", data: "a")])
        // Only the stream's first bytes can be a byte order mark.
        var later = ServerSentEventParser()
        let kept = try later.feed(Array("data: a\n".utf8) + [0xEF, 0xBB, 0xBF] + Array("data: b\n\n".utf8))
        #expect(kept.map(\.data) == ["a"])
    }

    @Test func acceptsCRLFAndCRLineEndings() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array("data: a\r\n\r\ndata: b\r\rdata:c\n\n".utf8))
        #expect(events.map(\.data) == ["a", "b", "c"])
    }

    @Test func skipsCommentsAndEventsWithoutData() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array(": ping\n\nevent: x\n\nid: 4\ndata: y\n\n".utf8))
        #expect(events == [ServerSentEvent(type: "message", data: "y", id: "4")])
    }

    @Test func anIdHoldingANulIsIgnoredEvenWhenACombiningMarkFollowsIt() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array("id: 3\ndata: a\n\nid: 4\0\u{301}\ndata: b\n\n".utf8))
        #expect(events.map(\.id) == ["3", "3"])
    }

    @Test func holdsAnUnfinishedEvent() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: partial\n".utf8)).isEmpty)
        #expect(try parser.feed(Array("\n".utf8)) == [ServerSentEvent(data: "partial")])
    }
}

/// The parser's line and event limits: past one it fails once, clearly, and holds nothing more.
@Suite struct ServerSentEventParserLimitTests {
    @Test func aLineOverTheLimitFailsTheStreamNamingTheLimit() throws {
        var parser = ServerSentEventParser(maximumLineBytes: 1 << 20, maximumEventBytes: 4 << 20)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        var fed = 0
        var failure: ServerSentEventLimitError?
        _ = try parser.feed(Array("data: ".utf8))
        // An endless line: 10 MiB offered, far past the limit.
        while fed < 10 << 20 {
            do {
                _ = try parser.feed(chunk)
                fed += chunk.count
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure)
        #expect(error == ServerSentEventLimitError(limit: .line, maximumBytes: 1 << 20))
        #expect(error.description.contains("line") && error.description.contains("1048576"))
        #expect(fed <= 1 << 20)
        // Failed for good: what follows an over-long line cannot be framed.
        #expect(throws: ServerSentEventLimitError.self) { try parser.feed(Array("\n\ndata: x\n\n".utf8)) }
    }

    @Test func aLineAtTheLimitIsAccepted() throws {
        var parser = ServerSentEventParser(maximumLineBytes: 1024, maximumEventBytes: 4096)
        let value = String(repeating: "y", count: 1024 - "data: ".utf8.count)
        let events = try parser.feed(Array("data: \(value)\n\n".utf8))
        #expect(events == [ServerSentEvent(data: value)])
    }

    @Test func anEventOverTheLimitFailsEvenWhenEachLineIsShort() throws {
        var parser = ServerSentEventParser(maximumLineBytes: 1024, maximumEventBytes: 64 << 10)
        let line = Array(("data: " + String(repeating: "z", count: 1000) + "\n").utf8)
        var failure: ServerSentEventLimitError?
        for _ in 0..<1000 {
            do { _ = try parser.feed(line) } catch {
                failure = error
                break
            }
        }
        #expect(failure == ServerSentEventLimitError(limit: .event, maximumBytes: 64 << 10))
        #expect(failure?.description.contains("event") == true)
    }

    @Test func endlessSmallEventsNeverAddUp() throws {
        var parser = ServerSentEventParser(maximumLineBytes: 256, maximumEventBytes: 256)
        let event = Array("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n".utf8)
        var count = 0
        // 100 000 events, 7 MiB in all, each under both limits.
        for _ in 0..<100_000 { count += try parser.feed(event).count }
        #expect(count == 100_000)
    }

    @Test func commentsDoNotCountTowardsTheEvent() throws {
        var parser = ServerSentEventParser(maximumLineBytes: 64, maximumEventBytes: 16)
        var text = "data: 0123456789\n"
        for _ in 0..<100 { text += ": keep-alive comment line\n" }
        text += "\n"
        #expect(try parser.feed(Array(text.utf8)) == [ServerSentEvent(data: "0123456789")])
    }
}

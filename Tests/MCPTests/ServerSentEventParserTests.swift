import Testing
@testable import MCP

@Suite struct ServerSentEventParserTests {
    @Test func parsesEventsSplitAcrossChunks() {
        var parser = ServerSentEventParser()
        let text = "event: endpoint\ndata: /messages/?session_id=1\n\nevent: message\ndata: {\"a\":\ndata: 1}\n\n"
        var events: [ServerSentEvent] = []
        for byte in text.utf8 { events += parser.feed([byte]) }
        #expect(events == [
            ServerSentEvent(type: "endpoint", data: "/messages/?session_id=1"),
            ServerSentEvent(type: "message", data: "{\"a\":\n1}"),
        ])
    }

    @Test func acceptsCRLFAndCRLineEndings() {
        var parser = ServerSentEventParser()
        let events = parser.feed(Array("data: a\r\n\r\ndata: b\r\rdata:c\n\n".utf8))
        #expect(events.map(\.data) == ["a", "b", "c"])
    }

    @Test func skipsCommentsAndEventsWithoutData() {
        var parser = ServerSentEventParser()
        let events = parser.feed(Array(": ping\n\nevent: x\n\nid: 4\ndata: y\n\n".utf8))
        #expect(events == [ServerSentEvent(type: "message", data: "y", id: "4")])
    }

    @Test func holdsAnUnfinishedEvent() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: partial\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [ServerSentEvent(data: "partial")])
    }
}

import Foundation
import Testing
@testable import MCP

/// The bridge's HTTP/1.1 response parsing: heads, body framing, chunked coding split anywhere.
@Suite struct HTTPBodyDecoderTests {
    /// Feeds `wire` `step` bytes at a time, as reads would; returns the body or the error.
    func decode(_ wire: String, framing: HTTPResponseHead.Framing, step: Int, endOfStream: Bool = false) throws -> String {
        var decoder = HTTPBodyDecoder(framing: framing)
        let bytes = Array(wire.utf8)
        var buffer: [UInt8] = []
        var start = 0
        var fed = 0
        var body = Data()
        while true {
            switch try decoder.next(buffer, start: &start, maximum: 5) {
            case .bytes(let piece):
                #expect(piece.count <= 5)
                body.append(piece)
            case .end:
                return String(decoding: body, as: UTF8.self)
            case .needMore:
                if fed == bytes.count {
                    if endOfStream {
                        try decoder.finish()
                        return String(decoding: body, as: UTF8.self)
                    }
                    throw PeerError(description: "the decoder wants more than the whole wire")
                }
                let next = min(bytes.count, fed + step)
                buffer += bytes[fed..<next]
                fed = next
            }
        }
    }

    @Test(arguments: [1, 2, 3, 7, 100])
    func chunkedBodiesAreJoinedWhereverTheReadsSplitThem(step: Int) throws {
        let wire = "4\r\nWiki\r\n7;ext=1\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n"
        #expect(try decode(wire, framing: .chunked, step: step) == "Wikipedia in \r\nchunks.")
    }

    @Test func aFixedLengthStopsAtItsLength() throws {
        #expect(try decode("hello world", framing: .length(5), step: 3) == "hello")
        #expect(try decode("", framing: .length(0), step: 1) == "")
    }

    @Test func aBodyUntilCloseEndsAtTheEndOfTheStream() throws {
        #expect(try decode("all of it", framing: .untilClose, step: 4, endOfStream: true) == "all of it")
    }

    @Test func anEarlyEndIsAnError() {
        #expect(throws: HTTPBodyDecoder.DecodeError.self) { try decode("abc", framing: .length(10), step: 2, endOfStream: true) }
        #expect(throws: HTTPBodyDecoder.DecodeError.self) { try decode("5\r\nab", framing: .chunked, step: 2, endOfStream: true) }
    }

    @Test func malformedChunksAreErrors() {
        #expect(throws: HTTPBodyDecoder.DecodeError.self) { try decode("zz\r\n", framing: .chunked, step: 4) }
        #expect(throws: HTTPBodyDecoder.DecodeError.self) { try decode("2\r\nabXX", framing: .chunked, step: 8) }
        // An endless chunk-size line is refused, not buffered.
        let endless = String(repeating: "0", count: HTTPBodyDecoder.maximumLineBytes + 10)
        #expect(throws: HTTPBodyDecoder.DecodeError.self) { try decode(endless, framing: .chunked, step: 1024) }
    }

    @Test(arguments: ["+a", "-0", "+0", " -1"])
    func aSignedChunkSizeIsAnError(size: String) {
        #expect(throws: HTTPBodyDecoder.DecodeError.self) { try decode("\(size)\r\n0123456789\r\n0\r\n\r\n", framing: .chunked, step: 64) }
    }

    @Test func headsGiveStatusHeadersAndFraming() throws {
        let head = try HTTPResponseHead(parsing: ArraySlice("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-A: 1\r\nx-a: 2\r\nTransfer-Encoding: chunked".utf8))
        #expect(head.status == 200)
        #expect(head.headers["content-type"] == "text/event-stream")
        #expect(head.headers["x-a"] == "1, 2")
        #expect(try head.framing() == .chunked)
        #expect(head.keepsConnection)
        #expect(try HTTPResponseHead(status: 204, headers: ["content-length": "10"]).framing() == .none)
        #expect(try HTTPResponseHead(status: 200, headers: ["content-length": "10, 10"]).framing() == .length(10))
        #expect(throws: HTTPResponseHead.ParseError.self) { try HTTPResponseHead(status: 200, headers: ["content-length": "10, 11"]).framing() }
        #expect(throws: HTTPResponseHead.ParseError.self) { try HTTPResponseHead(status: 200, headers: ["content-length": "-1"]).framing() }
        #expect(try HTTPResponseHead(status: 200, headers: [:]).framing() == .untilClose)
        #expect(!HTTPResponseHead(status: 200, headers: ["connection": "close"]).keepsConnection)
        #expect(!HTTPResponseHead(status: 200, version: "HTTP/1.0", headers: [:]).keepsConnection)
        #expect(throws: HTTPResponseHead.ParseError.self) { try HTTPResponseHead(parsing: ArraySlice("SSH-2.0-OpenSSH".utf8)) }
    }
}

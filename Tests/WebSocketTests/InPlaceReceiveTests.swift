import Testing
import WebSocket

/// `bytesReceived` on memory the machine may change reads frames where they lie instead of copying them
/// into its buffer first; whatever the split of the stream, it must act exactly as the buffered path.
@Suite("Bytes received in place")
struct InPlaceReceiveTests {
    private let start = ContinuousClock.now

    /// The stream a peer of `role`'s connection sends: messages of every length form, a fragmented one
    /// with a ping between its fragments, an empty text and a close.
    private func stream(facing role: WebSocketRole) -> [UInt8] {
        let peer = TestPeer(facing: role)
        return peer.bytes(
            .text("hello"),
            .ping([1, 2, 3]),
            WebSocketFrame(fin: false, opcode: .binary, payload: [9, 8, 7]),
            .ping([4]),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [6, 5]),
            .text(String(repeating: "é", count: 300)),
            .binary((0..<1000).map { UInt8(truncatingIfNeeded: $0) }),
            .text(""),
            closeFrame(1000, "done"))
    }

    /// What a connection of `role` does with `chunks`, in place or through the buffered path.
    private func outcome(_ role: WebSocketRole, _ chunks: [[UInt8]], inPlace: Bool) throws
        -> (delivered: [WebSocketMessage], written: [WebSocketFrame], closed: WebSocketCloseInfo?) {
        var machine = WebSocketConnection(role: role, now: start)
        var actions: [WebSocketConnection.Action] = []
        for var chunk in chunks {
            if inPlace {
                actions += chunk.withUnsafeMutableBytes { machine.bytesReceived($0, now: start) }
            } else {
                actions += machine.bytesReceived(chunk, now: start)
            }
        }
        return (actions.delivered, try TestPeer(facing: role).frames(in: actions), actions.closeInfo)
    }

    @Test("every split of a stream into two reads acts as the buffered path does", arguments: [WebSocketRole.client, .server])
    func everySplit(role: WebSocketRole) throws {
        let bytes = stream(facing: role)
        let whole = try outcome(role, [bytes], inPlace: false)
        #expect(whole.delivered.count == 5)
        #expect(whole.delivered.first == .text("hello"))
        #expect(whole.delivered[1] == .binary([9, 8, 7, 6, 5]))
        #expect(whole.written.map(\.opcode) == [.pong, .pong, .close])
        #expect(whole.closed?.code == WebSocketCloseCode(1000))
        var differing: [Int] = []
        for split in 0...bytes.count {
            let inPlace = try outcome(role, [Array(bytes[..<split]), Array(bytes[split...])], inPlace: true)
            if inPlace.delivered != whole.delivered || inPlace.written != whole.written || inPlace.closed != whole.closed {
                differing.append(split)
            }
        }
        #expect(differing.isEmpty, "the splits at \(differing.prefix(10)) (of \(differing.count)) act otherwise")
    }

    @Test("a stream fed one byte at a time in place gives every message once, whole", arguments: [WebSocketRole.client, .server])
    func byteByByte(role: WebSocketRole) throws {
        let bytes = stream(facing: role)
        let whole = try outcome(role, [bytes], inPlace: false)
        let bytewise = try outcome(role, bytes.map { [$0] }, inPlace: true)
        #expect(bytewise.delivered == whole.delivered)
        #expect(bytewise.written == whole.written)
        #expect(bytewise.closed == whole.closed)
    }

    @Test("a 64-bit length frame split anywhere in its header or payload is delivered whole", arguments: [1, 2, 9, 10, 14, 15, 40_000, 70_013])
    func longFrame(split: Int) throws {
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let bytes = TestPeer(facing: .server).bytes(.binary(payload))
        let result = try outcome(.server, [Array(bytes[..<split]), Array(bytes[split...])], inPlace: true)
        #expect(result.delivered == [.binary(payload)])
        #expect(result.closed == nil)
    }

    @Test("frames before a protocol error in the same read are delivered, then the connection fails with 1002")
    func errorAfterGoodFrames() throws {
        var bytes = TestPeer(facing: .client).bytes(.text("one"), .text("two"))
        bytes += [0xC1, 0x00]  // RSV1 set
        bytes += TestPeer(facing: .client).bytes(.text("never"))
        let result = try outcome(.client, [bytes], inPlace: true)
        #expect(result.delivered == [.text("one"), .text("two")])
        #expect(result.closed?.code == .protocolError)
        #expect(result.written.last?.opcode == .close)
    }

    @Test("invalid UTF-8 in a one-frame text message read in place fails with 1007", arguments: [WebSocketRole.client, .server])
    func invalidText(role: WebSocketRole) throws {
        let bytes = TestPeer(facing: role).bytes(WebSocketFrame(opcode: .text, payload: [0x68, 0xED, 0xA0, 0x80]))
        let result = try outcome(role, [bytes], inPlace: true)
        #expect(result.delivered.isEmpty)
        #expect(result.closed?.code == .invalidPayloadData)
    }

    @Test("bytes after the peer's close frame in the same read are not read")
    func nothingAfterClose() throws {
        let bytes = TestPeer(facing: .client).bytes(closeFrame(1001), .text("late"))
        let result = try outcome(.client, [bytes], inPlace: true)
        #expect(result.delivered.isEmpty)
        #expect(result.closed?.code == WebSocketCloseCode(1001))
    }
}

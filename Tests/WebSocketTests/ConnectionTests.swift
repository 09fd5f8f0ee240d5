import Testing
import WebSocket

@Suite("Connection: messages and control frames")
struct ConnectionMessageTests {
    let t0 = ContinuousClock.now

    @Test("a text frame from the server is delivered as a text message", arguments: [WebSocketRole.client, .server])
    func deliversText(role: WebSocketRole) {
        var connection = WebSocketConnection(role: role, now: t0)
        let actions = connection.bytesReceived(TestPeer(facing: role).bytes(.text("{\"jsonrpc\":\"2.0\"}")), now: t0)
        #expect(actions == [.deliver(.text("{\"jsonrpc\":\"2.0\"}"))])
    }

    @Test("a binary frame is delivered as a binary message")
    func deliversBinary() {
        var connection = WebSocketConnection(role: .client, now: t0)
        let actions = connection.bytesReceived(TestPeer(facing: .client).bytes(.binary([0, 1, 2, 255])), now: t0)
        #expect(actions == [.deliver(.binary([0, 1, 2, 255]))])
    }

    @Test("several messages in one read are delivered in order")
    func severalMessagesInOneRead() {
        var connection = WebSocketConnection(role: .client, now: t0)
        let actions = connection.bytesReceived(TestPeer(facing: .client).bytes(.text("a"), .text("b"), .binary([3])), now: t0)
        #expect(actions.delivered == [.text("a"), .text("b"), .binary([3])])
    }

    @Test("a message split across reads is delivered once complete")
    func messageAcrossReads() {
        var connection = WebSocketConnection(role: .server, now: t0)
        let bytes = TestPeer(facing: .server).bytes(.text("hello"))
        #expect(connection.bytesReceived(Array(bytes.prefix(4)), now: t0).isEmpty)
        #expect(connection.bytesReceived(Array(bytes.dropFirst(4)), now: t0) == [.deliver(.text("hello"))])
    }

    @Test("a client's outgoing message is masked, a server's is not")
    func outgoingMasking() throws {
        var client = WebSocketConnection(role: .client, now: t0)
        var server = WebSocketConnection(role: .server, now: t0)
        let clientWrite = try client.sendText("hi")
        let serverWrite = try server.sendText("hi")
        #expect(try TestPeer(facing: .client).frames(in: clientWrite) == [.text("hi")])
        #expect(serverWrite == [.write([0x81, 0x02, 0x68, 0x69])])
        #expect(try TestPeer(facing: .client).frames(in: try client.sendBinary([1])) == [.binary([1])])
    }

    @Test("a ping is answered with a pong carrying the same payload", arguments: [WebSocketRole.client, .server])
    func answersPing(role: WebSocketRole) throws {
        var connection = WebSocketConnection(role: role, now: t0)
        let peer = TestPeer(facing: role)
        let actions = connection.bytesReceived(peer.bytes(.ping([1, 2, 3])), now: t0)
        #expect(try peer.frames(in: actions) == [.pong([1, 2, 3])])
    }

    @Test("an unsolicited pong is ignored")
    func ignoresPong() {
        var connection = WebSocketConnection(role: .client, now: t0)
        #expect(connection.bytesReceived(TestPeer(facing: .client).bytes(.pong([7])), now: t0).isEmpty)
    }

    @Test("a ping sent on request carries its payload")
    func pingOnRequest() throws {
        var connection = WebSocketConnection(role: .client, now: t0)
        #expect(try TestPeer(facing: .client).frames(in: connection.ping([4, 2])) == [.ping([4, 2])])
    }

    @Test("fragments are reassembled with pings interleaved, and each ping is answered at once")
    func fragmentsWithInterleavedPings() throws {
        var connection = WebSocketConnection(role: .client, now: t0)
        let peer = TestPeer(facing: .client)
        var actions = connection.bytesReceived(peer.bytes(WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8))), now: t0)
        #expect(actions.isEmpty)
        actions = connection.bytesReceived(peer.bytes(.ping([1])), now: t0)
        #expect(try peer.frames(in: actions) == [.pong([1])])
        actions = connection.bytesReceived(
            peer.bytes(
                WebSocketFrame(fin: false, opcode: .continuation, payload: Array("l".utf8)), .ping([2]), .pong([]),
                WebSocketFrame(fin: true, opcode: .continuation, payload: Array("o".utf8))),
            now: t0)
        #expect(try peer.frames(in: actions) == [.pong([2])])
        #expect(actions.delivered == [.text("Hello")])
    }

    @Test("a 4-byte character split across fragments is valid text")
    func utf8AcrossFragments() {
        var connection = WebSocketConnection(role: .client, now: t0)
        let bytes = Array("🎤 ok".utf8)
        let actions = connection.bytesReceived(
            TestPeer(facing: .client).bytes(
                WebSocketFrame(fin: false, opcode: .text, payload: Array(bytes[..<1])),
                WebSocketFrame(fin: false, opcode: .continuation, payload: Array(bytes[1..<3])),
                WebSocketFrame(fin: true, opcode: .continuation, payload: Array(bytes[3...]))),
            now: t0)
        #expect(actions == [.deliver(.text("🎤 ok"))])
    }

    @Test("an empty fragmented message is delivered empty")
    func emptyFragments() {
        var connection = WebSocketConnection(role: .client, now: t0)
        let actions = connection.bytesReceived(
            TestPeer(facing: .client).bytes(
                WebSocketFrame(fin: false, opcode: .binary), WebSocketFrame(fin: true, opcode: .continuation)),
            now: t0)
        #expect(actions == [.deliver(.binary([]))])
    }

    @Test("the connection stays open after delivering messages")
    func staysOpen() {
        var connection = WebSocketConnection(role: .client, now: t0)
        _ = connection.bytesReceived(TestPeer(facing: .client).bytes(.text("x")), now: t0)
        #expect(connection.state == .open)
    }
}

@Suite("Connection: failures")
struct ConnectionFailureTests {
    let t0 = ContinuousClock.now

    /// Feeds `bytes` to a connection and checks it answered with a close frame of `code` and reported `error`.
    private func expectFailure(
        role: WebSocketRole = .client, configuration: WebSocketConnection.Configuration = .init(), bytes: [UInt8],
        code: UInt16, error: WebSocketProtocolError, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var connection = WebSocketConnection(role: role, configuration: configuration, now: t0)
        let actions = connection.bytesReceived(bytes, now: t0)
        let frames = try TestPeer(facing: role).frames(in: actions)
        #expect(frames.count == 1, sourceLocation: sourceLocation)
        #expect(frames.first?.opcode == .close, sourceLocation: sourceLocation)
        #expect(Array(frames.first?.payload.prefix(2) ?? []) == [UInt8(code >> 8), UInt8(code & 0xFF)], sourceLocation: sourceLocation)
        #expect(actions.closeInfo?.code == WebSocketCloseCode(code), sourceLocation: sourceLocation)
        #expect(actions.closeInfo?.initiator == .local, sourceLocation: sourceLocation)
        #expect(actions.closeInfo?.error == .protocolViolation(error), sourceLocation: sourceLocation)
        #expect(actions.delivered.isEmpty, sourceLocation: sourceLocation)
        #expect(connection.state == .closed, sourceLocation: sourceLocation)
        #expect(connection.bytesReceived(TestPeer(facing: role).bytes(.text("after")), now: t0).isEmpty, sourceLocation: sourceLocation)
    }

    @Test("reserved bits fail the connection with 1002")
    func reservedBits() throws {
        try expectFailure(bytes: [0xC1, 0x01, 0x61], code: 1002, error: .reservedBitsSet(4))
    }

    @Test("a reserved opcode fails the connection with 1002")
    func reservedOpcode() throws {
        try expectFailure(bytes: [0x83, 0x00], code: 1002, error: .reservedOpcode(3))
    }

    @Test("a masked frame from the server fails the client with 1002")
    func maskedFromServer() throws {
        try expectFailure(
            bytes: WebSocketFrameEncoder.encode(.text("x"), maskingKey: WebSocketMaskingKey(1, 2, 3, 4)), code: 1002,
            error: .maskedFrameFromServer)
    }

    @Test("an unmasked frame from the client fails the server with 1002")
    func unmaskedFromClient() throws {
        try expectFailure(role: .server, bytes: [0x81, 0x01, 0x61], code: 1002, error: .unmaskedFrameFromClient)
    }

    @Test("a ping longer than 125 bytes fails the connection with 1002")
    func longPing() throws {
        try expectFailure(
            bytes: [0x89, 0x7E, 0x00, 0x80] + [UInt8](repeating: 0, count: 128), code: 1002,
            error: .controlFrameTooLong(opcode: .ping, length: 128))
    }

    @Test("a fragmented ping fails the connection with 1002")
    func fragmentedPing() throws {
        try expectFailure(bytes: [0x09, 0x00], code: 1002, error: .fragmentedControlFrame(opcode: .ping))
    }

    @Test("a 64-bit length with the top bit set fails the connection with 1002")
    func lengthTopBit() throws {
        try expectFailure(bytes: [0x82, 0x7F, 0xFF, 0, 0, 0, 0, 0, 0, 0], code: 1002, error: .payloadLengthTopBitSet)
    }

    @Test("a continuation without a message in progress fails the connection with 1002")
    func strayContinuation() throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(WebSocketFrame(fin: true, opcode: .continuation, payload: [1])), code: 1002,
            error: .unexpectedContinuation)
    }

    @Test("a new message before the fragmented one finishes fails the connection with 1002")
    func interleavedMessages() throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(
                WebSocketFrame(fin: false, opcode: .text, payload: [0x61]), .binary([1])),
            code: 1002, error: .expectedContinuation(got: .binary))
    }

    @Test("invalid UTF-8 in a text message fails the connection with 1007")
    func invalidText() throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(WebSocketFrame(opcode: .text, payload: [0x61, 0xC0, 0xAF])), code: 1007,
            error: .invalidUTF8InText)
    }

    @Test("invalid UTF-8 in the first fragment fails before the message ends")
    func invalidFirstFragment() throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(WebSocketFrame(fin: false, opcode: .text, payload: [0xED, 0xA0, 0x80])),
            code: 1007, error: .invalidUTF8InText)
    }

    @Test("text ending inside a character fails with 1007")
    func truncatedCharacter() throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(
                WebSocketFrame(fin: false, opcode: .text, payload: [0x61]),
                WebSocketFrame(fin: true, opcode: .continuation, payload: [0xF0, 0x9F, 0x8E])),
            code: 1007, error: .invalidUTF8InText)
    }

    @Test("a frame over the frame limit fails the connection with 1009")
    func frameOverLimit() throws {
        try expectFailure(
            configuration: .init(maxFrameSize: 100, maxMessageSize: 1000),
            bytes: TestPeer(facing: .client).bytes(.binary([UInt8](repeating: 0, count: 101))), code: 1009,
            error: .frameTooLarge(length: 101, limit: 100))
    }

    @Test("a message of fragments adding up past the message limit fails with 1009")
    func messageOverLimit() throws {
        let fragment = [UInt8](repeating: 0x61, count: 600)
        try expectFailure(
            configuration: .init(maxFrameSize: 1000, maxMessageSize: 1000),
            bytes: TestPeer(facing: .client).bytes(
                WebSocketFrame(fin: false, opcode: .text, payload: fragment),
                WebSocketFrame(fin: true, opcode: .continuation, payload: fragment)),
            code: 1009, error: .messageTooLarge(limit: 1000))
    }

    @Test("the default limit is 1 MiB: one byte more fails with 1009, exactly 1 MiB is delivered")
    func defaultLimit() throws {
        let limit = 1 << 20
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(.binary([UInt8](repeating: 0, count: limit + 1))), code: 1009,
            error: .frameTooLarge(length: UInt64(limit + 1), limit: limit))
        var connection = WebSocketConnection(role: .client, now: t0)
        let payload = [UInt8](repeating: 9, count: limit)
        #expect(connection.bytesReceived(TestPeer(facing: .client).bytes(.binary(payload)), now: t0) == [.deliver(.binary(payload))])
    }

    @Test("a close frame with a one-byte payload fails with 1002")
    func oneByteClose() throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(WebSocketFrame(opcode: .close, payload: [0x03])), code: 1002,
            error: .closePayloadTooShort)
    }

    @Test("a close code that may not be sent fails with 1002", arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] as [UInt16])
    func invalidCloseCode(code: UInt16) throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(WebSocketFrame(opcode: .close, payload: [UInt8(code >> 8), UInt8(code & 0xFF)])),
            code: 1002, error: .invalidCloseCode(code))
    }

    @Test("a close reason that is not UTF-8 fails with 1007")
    func invalidCloseReason() throws {
        try expectFailure(
            bytes: TestPeer(facing: .client).bytes(WebSocketFrame(opcode: .close, payload: [0x03, 0xE8, 0xFF])), code: 1007,
            error: .invalidUTF8InCloseReason)
    }

    @Test("sending after the close is refused")
    func sendAfterClose() {
        var connection = WebSocketConnection(role: .client, now: t0)
        _ = connection.close(now: t0)
        #expect(throws: WebSocketConnectionError.notOpen) { try connection.sendText("late") }
        #expect(connection.ping().isEmpty)
    }

    @Test("the transport ending without a close frame reports 1006 and a lost connection")
    func transportEnds() {
        var connection = WebSocketConnection(role: .client, now: t0)
        let actions = connection.connectionEnded()
        #expect(actions == [.closed(WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .transport, error: .connectionLost))])
        #expect(connection.connectionEnded().isEmpty)
    }
}

@Suite("Connection: close handshake")
struct ConnectionCloseTests {
    let t0 = ContinuousClock.now

    @Test("the peer's close is echoed with its code, and the connection reports the peer's code and reason", arguments: [1000, 1001, 1008, 3000, 4999] as [UInt16])
    func echoesPeerClose(code: UInt16) throws {
        var connection = WebSocketConnection(role: .client, now: t0)
        let peer = TestPeer(facing: .client)
        let actions = connection.bytesReceived(peer.bytes(closeFrame(code, "bye")), now: t0)
        let frames = try peer.frames(in: actions)
        #expect(frames.map(\.opcode) == [.close])
        #expect(Array(frames[0].payload.prefix(2)) == [UInt8(code >> 8), UInt8(code & 0xFF)])
        #expect(actions.closeInfo == WebSocketCloseInfo(code: WebSocketCloseCode(code), reason: "bye", initiator: .peer))
        #expect(connection.state == .closed)
    }

    @Test("an empty close is answered with an empty close and reported as 1005")
    func emptyClose() throws {
        var connection = WebSocketConnection(role: .server, now: t0)
        let peer = TestPeer(facing: .server)
        let actions = connection.bytesReceived(peer.bytes(WebSocketFrame(opcode: .close)), now: t0)
        #expect(try peer.frames(in: actions) == [WebSocketFrame(opcode: .close)])
        #expect(actions.closeInfo == WebSocketCloseInfo(code: .noStatusReceived, reason: "", initiator: .peer))
    }

    @Test("a local close sends the code and reason, waits, and ends when the peer answers")
    func localClose() throws {
        var connection = WebSocketConnection(role: .client, now: t0)
        let peer = TestPeer(facing: .client)
        let sent = connection.close(code: .goingAway, reason: "shutting down", now: t0)
        #expect(try peer.frames(in: sent) == [WebSocketFrame.close(code: .goingAway, reason: "shutting down")])
        #expect(connection.state == .closing)
        #expect(connection.close(now: t0).isEmpty)
        let answer = connection.bytesReceived(peer.bytes(closeFrame(1001)), now: t0)
        #expect(answer == [.closed(WebSocketCloseInfo(code: .goingAway, reason: "shutting down", initiator: .local))])
        #expect(connection.state == .closed)
    }

    @Test("data arriving after our close is read but not delivered, and pings are not answered")
    func dataWhileClosing() {
        var connection = WebSocketConnection(role: .client, now: t0)
        _ = connection.close(now: t0)
        let actions = connection.bytesReceived(TestPeer(facing: .client).bytes(.text("late"), .ping([1]), closeFrame(1000)), now: t0)
        #expect(actions == [.closed(WebSocketCloseInfo(code: .normalClosure, reason: "", initiator: .local))])
    }

    @Test("an unanswered close ends with a timeout after the close timeout")
    func closeTimeout() {
        var connection = WebSocketConnection(role: .client, configuration: .init(closeTimeout: .seconds(5)), now: t0)
        _ = connection.close(now: t0)
        #expect(connection.nextDeadline == t0 + .seconds(5))
        #expect(connection.tick(now: t0 + .seconds(4)).isEmpty)
        let actions = connection.tick(now: t0 + .seconds(5))
        #expect(actions.closeInfo?.error == .closeHandshakeTimedOut(timeout: .seconds(5)))
        #expect(actions.closeInfo?.code == .normalClosure)
        #expect(connection.nextDeadline == nil)
    }

    @Test("the transport ending while closing reports our code with a lost connection")
    func transportEndsWhileClosing() {
        var connection = WebSocketConnection(role: .client, now: t0)
        _ = connection.close(code: .policyViolation, now: t0)
        #expect(connection.connectionEnded().closeInfo == WebSocketCloseInfo(code: .policyViolation, reason: "", initiator: .local, error: .connectionLost))
    }

    @Test("a code that may not be sent is replaced by 1000")
    func unsendableLocalCode() throws {
        var connection = WebSocketConnection(role: .server, now: t0)
        let actions = connection.close(code: .abnormalClosure, now: t0)
        #expect(try TestPeer(facing: .server).frames(in: actions) == [closeFrame(1000)])
    }

    @Test("a protocol error while closing ends the connection without a second close frame")
    func errorWhileClosing() {
        var connection = WebSocketConnection(role: .client, now: t0)
        _ = connection.close(code: .goingAway, now: t0)
        let actions = connection.bytesReceived([0x83, 0x00], now: t0)
        #expect(actions == [.closed(WebSocketCloseInfo(code: .goingAway, reason: "", initiator: .local, error: .protocolViolation(.reservedOpcode(3))))])
    }

    @Test("closed is reported exactly once")
    func closedOnce() {
        var connection = WebSocketConnection(role: .client, now: t0)
        _ = connection.bytesReceived(TestPeer(facing: .client).bytes(closeFrame(1000)), now: t0)
        #expect(connection.bytesReceived(TestPeer(facing: .client).bytes(closeFrame(1000)), now: t0).isEmpty)
        #expect(connection.tick(now: t0 + .seconds(1000)).isEmpty)
        #expect(connection.connectionEnded().isEmpty)
        #expect(connection.close(now: t0).isEmpty)
    }
}

@Suite("Connection: ping interval and silence deadline")
struct ConnectionTimerTests {
    let t0 = ContinuousClock.now
    let configuration = WebSocketConnection.Configuration(pingInterval: .seconds(25), silenceTimeout: .seconds(60))

    @Test("the default pings every 25 seconds and gives up after 60 seconds of silence")
    func defaults() {
        let defaults = WebSocketConnection.Configuration()
        #expect(defaults.pingInterval == .seconds(25))
        #expect(defaults.silenceTimeout == .seconds(60))
        #expect(defaults.maxMessageSize == 1 << 20)
    }

    @Test("no ping is sent before the interval; one is sent when it elapses, then every interval")
    func pingsOnInterval() throws {
        var connection = WebSocketConnection(role: .client, configuration: configuration, now: t0)
        let peer = TestPeer(facing: .client)
        #expect(connection.nextDeadline == t0 + .seconds(25))
        #expect(connection.tick(now: t0 + .seconds(24)).isEmpty)
        let first = try peer.frames(in: connection.tick(now: t0 + .seconds(25)))
        #expect(first.map(\.opcode) == [.ping])
        #expect(connection.tick(now: t0 + .seconds(26)).isEmpty)
        _ = connection.bytesReceived(peer.bytes(.pong(first[0].payload)), now: t0 + .seconds(26))
        let second = try peer.frames(in: connection.tick(now: t0 + .seconds(50)))
        #expect(second.map(\.opcode) == [.ping])
        #expect(second[0].payload != first[0].payload)
    }

    @Test("silence for the timeout fails the connection with 1006 and no close frame")
    func silenceDeadline() {
        var connection = WebSocketConnection(role: .client, configuration: configuration, now: t0)
        _ = connection.tick(now: t0 + .seconds(25))
        _ = connection.tick(now: t0 + .seconds(50))
        let actions = connection.tick(now: t0 + .seconds(60))
        #expect(actions == [.closed(WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .transport, error: .peerSilent(timeout: .seconds(60))))])
        #expect(connection.state == .closed)
    }

    @Test("any bytes from the peer push the silence deadline back")
    func bytesResetSilence() {
        var connection = WebSocketConnection(role: .client, configuration: configuration, now: t0)
        _ = connection.bytesReceived(TestPeer(facing: .client).bytes(.pong()), now: t0 + .seconds(40))
        #expect(connection.tick(now: t0 + .seconds(60)).allSatisfy { if case .closed = $0 { false } else { true } })
        #expect(connection.state == .open)
        #expect(connection.tick(now: t0 + .seconds(100)).closeInfo?.error == .peerSilent(timeout: .seconds(60)))
    }

    @Test("a partial frame counts as activity")
    func partialFrameIsActivity() {
        var connection = WebSocketConnection(role: .client, configuration: configuration, now: t0)
        _ = connection.bytesReceived([0x81], now: t0 + .seconds(59))
        #expect(connection.tick(now: t0 + .seconds(60)).closeInfo == nil)
    }

    @Test("the next deadline is the earlier of the next ping and the silence deadline")
    func nextDeadline() {
        var connection = WebSocketConnection(
            role: .client, configuration: .init(pingInterval: .seconds(25), silenceTimeout: .seconds(30)), now: t0)
        #expect(connection.nextDeadline == t0 + .seconds(25))
        _ = connection.tick(now: t0 + .seconds(25))
        #expect(connection.nextDeadline == t0 + .seconds(30))
    }

    @Test("with pings and the silence deadline off, ticks do nothing and there is no deadline")
    func timersOff() {
        var connection = WebSocketConnection(role: .server, configuration: .init(pingInterval: nil, silenceTimeout: nil), now: t0)
        #expect(connection.nextDeadline == nil)
        #expect(connection.tick(now: t0 + .seconds(100_000)).isEmpty)
    }

    @Test("no ping is sent while closing")
    func noPingWhileClosing() {
        var connection = WebSocketConnection(role: .client, configuration: .init(pingInterval: .seconds(1), closeTimeout: .seconds(10)), now: t0)
        _ = connection.close(now: t0)
        #expect(connection.tick(now: t0 + .seconds(2)).isEmpty)
    }
}

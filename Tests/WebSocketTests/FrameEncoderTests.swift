import Testing
import WebSocket

@Suite("Frame encoder")
struct FrameEncoderTests {
    @Test("a server's frames are never masked")
    func serverDoesNotMask() {
        let bytes = WebSocketFrameEncoder(role: .server).encode(.binary([1, 2, 3]))
        #expect(bytes == [0x82, 0x03, 1, 2, 3])
    }

    @Test("a client's frames are masked and decode back to the payload")
    func clientMasks() throws {
        let bytes = WebSocketFrameEncoder(role: .client).encode(.text("masked payload"))
        #expect(bytes[1] & 0x80 != 0)
        var decoder = WebSocketFrameDecoder(role: .server)
        decoder.append(bytes)
        #expect(try decoder.nextFrame() == .text("masked payload"))
    }

    @Test("a client draws a fresh masking key for every frame")
    func freshKeyPerFrame() {
        let encoder = WebSocketFrameEncoder(role: .client)
        let keys = Set((0..<16).map { _ in Array(encoder.encode(.text("same")).dropFirst(2).prefix(4)) })
        #expect(keys.count > 1)
    }

    @Test("a client connection masks every frame with its own key, across more than one draw of keys")
    func connectionKeysAcrossDraws() throws {
        var client = WebSocketConnection(role: .client, now: .now)
        var server = WebSocketFrameDecoder(role: .server)
        var keys: [[UInt8]] = []
        let frames = WebSocketMaskingKeyBlock.keysPerDraw * 2 + 3
        for index in 0..<frames {
            for action in try client.send(.text("frame \(index)")) {
                guard case .write(let bytes) = action else { continue }
                #expect(bytes[1] & 0x80 != 0)
                keys.append(Array(bytes[2..<6]))
                server.append(bytes)
                #expect(try server.nextFrame() == .text("frame \(index)"))
            }
        }
        #expect(keys.count == frames)
        // 131 random 32-bit keys collide with a chance of about 2 in a million.
        #expect(Set(keys).count == frames)
    }

    @Test("a block of masking keys hands out each key once and draws again when used up")
    func keyBlock() {
        var block = WebSocketMaskingKeyBlock()
        let keys = (0..<(WebSocketMaskingKeyBlock.keysPerDraw + 10)).map { _ in block.next().rawValue }
        #expect(Set(keys).count == keys.count)
        #expect(keys.contains { $0 != 0 })
    }

    @Test("FIN, reserved bits and opcode land in the first byte")
    func firstByte() {
        let frame = WebSocketFrame(fin: false, reservedBits: 0b101, opcode: .binary, payload: [])
        #expect(WebSocketFrameEncoder.encode(frame, maskingKey: nil) == [0x52, 0x00])
    }

    @Test("encoding appends to existing bytes")
    func appendsIntoBuffer() {
        var output: [UInt8] = [0xEE]
        WebSocketFrameEncoder(role: .server).encode(.pong([]), into: &output)
        #expect(output == [0xEE, 0x8A, 0x00])
    }

    @Test("a close frame carries the code in network order and the reason")
    func closeFramePayload() {
        #expect(WebSocketFrame.close(code: .goingAway, reason: "bye").payload == [0x03, 0xE9, 0x62, 0x79, 0x65])
        #expect(WebSocketFrame.close(code: nil).payload.isEmpty)
    }

    @Test("a close reason longer than 123 bytes is cut at a character boundary")
    func closeReasonTruncated() {
        let frame = WebSocketFrame.close(code: .normalClosure, reason: String(repeating: "é", count: 100))
        #expect(frame.payload.count == 124)
        #expect(UTF8Validator.isValid(Array(frame.payload.dropFirst(2))))
    }
}

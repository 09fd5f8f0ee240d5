import Testing
import WebSocket

@Suite("Frame decoder")
struct FrameDecoderTests {
    private func decode(_ bytes: [UInt8], role: WebSocketRole = .client, limit: Int = 1 << 20) throws(WebSocketProtocolError) -> WebSocketFrame? {
        var decoder = WebSocketFrameDecoder(role: role, maxFramePayloadSize: limit)
        decoder.append(bytes)
        return try decoder.nextFrame()
    }

    private func error(_ bytes: [UInt8], role: WebSocketRole = .client, limit: Int = 1 << 20) -> WebSocketProtocolError? {
        do {
            _ = try decode(bytes, role: role, limit: limit)
            return nil
        } catch {
            return error
        }
    }

    @Test("a frame fed one byte at a time comes out only when complete")
    func byteByByte() throws {
        let bytes = WebSocketFrameEncoder.encode(.text("Hello, world"), maskingKey: WebSocketMaskingKey(1, 2, 3, 4))
        var decoder = WebSocketFrameDecoder(role: .server)
        for byte in bytes.dropLast() {
            decoder.append([byte])
            #expect(try decoder.nextFrame() == nil)
        }
        decoder.append([bytes.last!])
        #expect(try decoder.nextFrame() == .text("Hello, world"))
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("several frames in one chunk come out in order, leaving a partial one buffered")
    func severalFramesInOneChunk() throws {
        let encoder = WebSocketFrameEncoder(role: .server)
        var bytes = encoder.encode(.text("one")) + encoder.encode(.ping([9])) + encoder.encode(.binary([1, 2, 3]))
        let partial = encoder.encode(.text("four"))
        bytes += partial.prefix(3)
        var decoder = WebSocketFrameDecoder(role: .client)
        decoder.append(bytes)
        #expect(try decoder.nextFrame() == .text("one"))
        #expect(try decoder.nextFrame() == .ping([9]))
        #expect(try decoder.nextFrame() == .binary([1, 2, 3]))
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 3)
        decoder.append(partial.dropFirst(3))
        #expect(try decoder.nextFrame() == .text("four"))
    }

    @Test("payload lengths 125, 126, 65535 and 65536 round-trip through the 7-, 16- and 64-bit forms", arguments: [0, 1, 125, 126, 127, 65535, 65536, 70000])
    func lengthBoundaries(length: Int) throws {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        let bytes = WebSocketFrameEncoder.encode(.binary(payload), maskingKey: WebSocketMaskingKey(0xA1, 0xB2, 0xC3, 0xD4))
        let expectedHeader = length <= 125 ? 2 : (length <= 65535 ? 4 : 10)
        #expect(bytes.count == expectedHeader + 4 + length)
        #expect(try decode(bytes, role: .server) == .binary(payload))
    }

    @Test("a frame with RSV1 set is rejected with 1002")
    func reservedBit1() {
        let failure = error([0xC1, 0x00])
        #expect(failure == .reservedBitsSet(0x4))
        #expect(failure?.closeCode == .protocolError)
    }

    @Test("frames with RSV2 or RSV3 set are rejected")
    func reservedBits2And3() {
        #expect(error([0xA1, 0x00]) == .reservedBitsSet(0x2))
        #expect(error([0x91, 0x00]) == .reservedBitsSet(0x1))
    }

    @Test("reserved opcodes are rejected with 1002", arguments: [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8])
    func reservedOpcodes(opcode: UInt8) {
        let failure = error([0x80 | opcode, 0x00])
        #expect(failure == .reservedOpcode(opcode))
        #expect(failure?.closeCode == .protocolError)
    }

    @Test("a client rejects a masked frame from the server")
    func maskedFromServer() {
        let bytes = WebSocketFrameEncoder.encode(.text("x"), maskingKey: WebSocketMaskingKey(1, 2, 3, 4))
        let failure = error(bytes, role: .client)
        #expect(failure == .maskedFrameFromServer)
        #expect(failure?.closeCode == .protocolError)
    }

    @Test("a server rejects an unmasked frame from the client")
    func unmaskedFromClient() {
        let failure = error([0x81, 0x01, 0x78], role: .server)
        #expect(failure == .unmaskedFrameFromClient)
        #expect(failure?.closeCode == .protocolError)
    }

    @Test("a ping with 126 bytes of payload is rejected as too long for a control frame")
    func controlFrameTooLong() {
        let bytes: [UInt8] = [0x89, 0x7E, 0x00, 0x7E] + [UInt8](repeating: 0, count: 126)
        let failure = error(bytes)
        #expect(failure == .controlFrameTooLong(opcode: .ping, length: 126))
        #expect(failure?.closeCode == .protocolError)
    }

    @Test("a control frame with exactly 125 bytes is accepted")
    func controlFrameAtLimit() throws {
        let payload = [UInt8](repeating: 7, count: 125)
        #expect(try decode([0x8A, 0x7D] + payload) == .pong(payload))
    }

    @Test("a close, ping or pong without FIN is rejected as fragmented", arguments: [WebSocketOpcode.close, .ping, .pong])
    func fragmentedControl(opcode: WebSocketOpcode) {
        let failure = error([opcode.rawValue, 0x00])
        #expect(failure == .fragmentedControlFrame(opcode: opcode))
        #expect(failure?.closeCode == .protocolError)
    }

    @Test("a 64-bit length with the top bit set is rejected with 1002")
    func lengthTopBit() {
        let failure = error([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1])
        #expect(failure == .payloadLengthTopBitSet)
        #expect(failure?.closeCode == .protocolError)
    }

    @Test("a frame declaring more than the limit is rejected with 1009 before its payload arrives")
    func frameTooLarge() {
        let failure = error([0x82, 0x7E, 0x04, 0x01], limit: 1024)
        #expect(failure == .frameTooLarge(length: 1025, limit: 1024))
        #expect(failure?.closeCode == .messageTooBig)
    }

    @Test("a frame of exactly the limit is accepted")
    func frameAtLimit() throws {
        let payload = [UInt8](repeating: 1, count: 1024)
        #expect(try decode([0x82, 0x7E, 0x04, 0x00] + payload, limit: 1024) == .binary(payload))
    }

    @Test("a huge 64-bit length is rejected by the size limit, not buffered")
    func hugeLength() {
        #expect(error([0x82, 0x7F, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0]) == .frameTooLarge(length: 1 << 40, limit: 1 << 20))
    }

    @Test("an unfinished header yields no frame and no error")
    func partialHeader() throws {
        #expect(try decode([0x82]) == nil)
        #expect(try decode([0x82, 0x7E, 0x01]) == nil)
        #expect(try decode([0x82, 0x7F, 0, 0, 0, 0]) == nil)
        #expect(try decode([0x82, 0x85, 1, 2], role: .server) == nil)
    }

    @Test("a frame split inside its masking key decodes once the rest arrives")
    func splitInMaskingKey() throws {
        let bytes = WebSocketFrameEncoder.encode(.binary([1, 2, 3, 4, 5]), maskingKey: WebSocketMaskingKey(9, 8, 7, 6))
        var decoder = WebSocketFrameDecoder(role: .server)
        decoder.append(bytes.prefix(4))
        #expect(try decoder.nextFrame() == nil)
        decoder.append(bytes.dropFirst(4))
        #expect(try decoder.nextFrame() == .binary([1, 2, 3, 4, 5]))
    }

    @Test("bytes handed over as an unsafe buffer decode the same as an array")
    func rawBufferAppend() throws {
        let bytes: [UInt8] = [0x81, 0x02, 0x68, 0x69]
        var decoder = WebSocketFrameDecoder(role: .client)
        bytes.withUnsafeBytes { decoder.append($0) }
        #expect(try decoder.nextFrame() == .text("hi"))
    }
}

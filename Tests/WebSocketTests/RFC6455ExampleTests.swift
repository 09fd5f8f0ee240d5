import Testing
import WebSocket

/// The examples of RFC 6455 sections 1.3 and 5.7, byte for byte.
@Suite("RFC 6455 examples")
struct RFC6455ExampleTests {
    private let hello = Array("Hello".utf8)

    @Test("section 1.3: the accept value for 'dGhlIHNhbXBsZSBub25jZQ==' is 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='")
    func acceptKey() {
        #expect(WebSocketAccept.value(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test("5.7: a single-frame unmasked text message 'Hello' encodes as 81 05 48 65 6c 6c 6f")
    func unmaskedHelloEncodes() {
        #expect(WebSocketFrameEncoder(role: .server).encode(.text("Hello")) == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    @Test("5.7: a client decodes 81 05 48 65 6c 6c 6f as the final text frame 'Hello'")
    func unmaskedHelloDecodes() throws {
        var decoder = WebSocketFrameDecoder(role: .client)
        decoder.append([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(try decoder.nextFrame() == WebSocketFrame(fin: true, opcode: .text, payload: hello))
        #expect(try decoder.nextFrame() == nil)
    }

    @Test("5.7: a masked 'Hello' with key 37 fa 21 3d encodes as 81 85 37 fa 21 3d 7f 9f 4d 51 58")
    func maskedHelloEncodes() {
        let key = WebSocketMaskingKey(0x37, 0xFA, 0x21, 0x3D)
        #expect(
            WebSocketFrameEncoder.encode(.text("Hello"), maskingKey: key)
                == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test("5.7: a server decodes the masked 'Hello' and unmasks it")
    func maskedHelloDecodes() throws {
        var decoder = WebSocketFrameDecoder(role: .server)
        decoder.append([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        #expect(try decoder.nextFrame() == WebSocketFrame(fin: true, opcode: .text, payload: hello))
    }

    @Test("5.7: the fragmented 'Hel' + 'lo' decodes as a text frame without FIN then a final continuation")
    func fragmentedHello() throws {
        var decoder = WebSocketFrameDecoder(role: .client)
        decoder.append([0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F])
        #expect(try decoder.nextFrame() == WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)))
        #expect(try decoder.nextFrame() == WebSocketFrame(fin: true, opcode: .continuation, payload: Array("lo".utf8)))
    }

    @Test("5.7: the fragmented 'Hel' + 'lo' reassembles into the message 'Hello'")
    func fragmentedHelloReassembles() throws {
        var assembler = WebSocketMessageAssembler()
        #expect(try assembler.receive(WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8))) == nil)
        #expect(try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: Array("lo".utf8))) == .text("Hello"))
    }

    @Test("5.7: an unmasked ping 'Hello' is 89 05 48 65 6c 6c 6f")
    func unmaskedPing() throws {
        let bytes: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        #expect(WebSocketFrameEncoder(role: .server).encode(.ping(hello)) == bytes)
        var decoder = WebSocketFrameDecoder(role: .client)
        decoder.append(bytes)
        #expect(try decoder.nextFrame() == .ping(hello))
    }

    @Test("5.7: a masked pong 'Hello' with key 37 fa 21 3d is 8a 85 37 fa 21 3d 7f 9f 4d 51 58")
    func maskedPong() throws {
        let bytes: [UInt8] = [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        #expect(WebSocketFrameEncoder.encode(.pong(hello), maskingKey: WebSocketMaskingKey(0x37, 0xFA, 0x21, 0x3D)) == bytes)
        var decoder = WebSocketFrameDecoder(role: .server)
        decoder.append(bytes)
        #expect(try decoder.nextFrame() == .pong(hello))
    }

    @Test("5.7: 256 bytes of binary data use the 16-bit length: 82 7e 01 00")
    func binary256() throws {
        let payload = (0..<256).map { UInt8(truncatingIfNeeded: $0) }
        let bytes = WebSocketFrameEncoder(role: .server).encode(.binary(payload))
        #expect(Array(bytes.prefix(4)) == [0x82, 0x7E, 0x01, 0x00])
        #expect(bytes.count == 4 + 256)
        var decoder = WebSocketFrameDecoder(role: .client)
        decoder.append(bytes)
        #expect(try decoder.nextFrame() == .binary(payload))
    }

    @Test("5.7: 64 KiB of binary data use the 64-bit length: 82 7f 00 00 00 00 00 01 00 00")
    func binary64KiB() throws {
        let payload = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let bytes = WebSocketFrameEncoder(role: .server).encode(.binary(payload))
        #expect(Array(bytes.prefix(10)) == [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00])
        #expect(bytes.count == 10 + 65536)
        var decoder = WebSocketFrameDecoder(role: .client)
        decoder.append(bytes)
        #expect(try decoder.nextFrame() == .binary(payload))
    }
}

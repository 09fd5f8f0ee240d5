import Testing
import WebSocket

@Suite("Message assembler")
struct MessageAssemblerTests {
    @Test("an unfragmented text frame is a message at once")
    func singleFrame() throws {
        var assembler = WebSocketMessageAssembler()
        #expect(try assembler.receive(.text("hi")) == .text("hi"))
        #expect(!assembler.isAssembling)
    }

    @Test("binary fragments are joined in order")
    func binaryFragments() throws {
        var assembler = WebSocketMessageAssembler()
        #expect(try assembler.receive(WebSocketFrame(fin: false, opcode: .binary, payload: [1])) == nil)
        #expect(assembler.isAssembling)
        #expect(try assembler.receive(WebSocketFrame(fin: false, opcode: .continuation, payload: [2, 3])) == nil)
        #expect(try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: [4])) == .binary([1, 2, 3, 4]))
        #expect(!assembler.isAssembling)
    }

    @Test("after a message completes, the next one starts fresh")
    func consecutiveMessages() throws {
        var assembler = WebSocketMessageAssembler()
        _ = try assembler.receive(WebSocketFrame(fin: false, opcode: .text, payload: [0xE2, 0x82]))
        #expect(try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: [0xAC])) == .text("€"))
        #expect(try assembler.receive(.binary([9])) == .binary([9]))
    }

    @Test("a message of exactly the limit passes; the limit counts all fragments")
    func limitIsInclusive() throws {
        var assembler = WebSocketMessageAssembler(maxMessageSize: 4)
        _ = try assembler.receive(WebSocketFrame(fin: false, opcode: .binary, payload: [1, 2]))
        #expect(try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: [3, 4])) == .binary([1, 2, 3, 4]))
        _ = try assembler.receive(WebSocketFrame(fin: false, opcode: .binary, payload: [1, 2, 3]))
        #expect(throws: WebSocketProtocolError.messageTooLarge(limit: 4)) {
            try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: [4, 5]))
        }
    }

    @Test("binary payloads are not checked as UTF-8")
    func binaryNotValidated() throws {
        var assembler = WebSocketMessageAssembler()
        #expect(try assembler.receive(.binary([0xFF, 0xC0])) == .binary([0xFF, 0xC0]))
    }
}

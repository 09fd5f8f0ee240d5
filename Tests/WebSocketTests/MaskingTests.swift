import Testing
import WebSocket

@Suite("Masking")
struct MaskingTests {
    private func naiveMask(_ bytes: [UInt8], _ key: WebSocketMaskingKey, phase: Int = 0) -> [UInt8] {
        let keyBytes = key.bytes
        return bytes.enumerated().map { $0.element ^ keyBytes[($0.offset + phase) % 4] }
    }

    @Test("masking matches the byte-by-byte definition for every length up to 100", arguments: 0...100)
    func matchesDefinition(length: Int) {
        let key = WebSocketMaskingKey(0x37, 0xFA, 0x21, 0x3D)
        let original = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        var masked = original
        WebSocketMasking.apply(key, to: &masked)
        #expect(masked == naiveMask(original, key))
    }

    @Test("a phase continues the key where the previous piece stopped", arguments: 0...3)
    func phase(phase: Int) {
        let key = WebSocketMaskingKey(1, 2, 4, 8)
        let original = [UInt8](repeating: 0xF0, count: 37)
        var masked = original
        WebSocketMasking.apply(key, to: &masked, phase: phase)
        #expect(masked == naiveMask(original, key, phase: phase))
    }

    @Test("masking in pieces with the running phase equals masking at once")
    func piecewise() {
        let key = WebSocketMaskingKey(0xDE, 0xAD, 0xBE, 0xEF)
        let original = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
        var whole = original
        WebSocketMasking.apply(key, to: &whole)
        var pieces = original
        var start = 0
        for length in [3, 1, 17, 64, 915] {
            WebSocketMasking.apply(key, to: &pieces, range: start..<(start + length), phase: start)
            start += length
        }
        #expect(pieces == whole)
    }

    @Test("masking twice restores the payload")
    func involution() {
        let key = WebSocketMaskingKey.random()
        let original = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var bytes = original
        WebSocketMasking.apply(key, to: &bytes)
        WebSocketMasking.apply(key, to: &bytes)
        #expect(bytes == original)
    }

    @Test("masking an unaligned slice leaves the bytes around it untouched")
    func unalignedSlice() {
        let key = WebSocketMaskingKey(0xFF, 0xFF, 0xFF, 0xFF)
        var bytes = [UInt8](repeating: 0, count: 50)
        WebSocketMasking.apply(key, to: &bytes, range: 3..<47)
        #expect(bytes[..<3].allSatisfy { $0 == 0 })
        #expect(bytes[3..<47].allSatisfy { $0 == 0xFF })
        #expect(bytes[47...].allSatisfy { $0 == 0 })
    }

    @Test("a key built from bytes reports them in wire order")
    func keyBytes() {
        #expect(WebSocketMaskingKey(0x37, 0xFA, 0x21, 0x3D).bytes == [0x37, 0xFA, 0x21, 0x3D])
        #expect(WebSocketMaskingKey([1, 2, 3, 4] as [UInt8]) == WebSocketMaskingKey(1, 2, 3, 4))
        #expect(WebSocketMaskingKey([1, 2, 3] as [UInt8]) == nil)
    }
}

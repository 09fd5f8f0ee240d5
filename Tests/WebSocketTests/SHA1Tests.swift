import ClientSupport
import Testing
import WebSocket

@Suite("SHA-1")
struct SHA1Tests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test("the empty message hashes to the FIPS 180 value")
    func emptyMessage() {
        #expect(hex(SHA1.hash([UInt8]())) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test("'abc' hashes to the FIPS 180 value")
    func abc() {
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test("the 448-bit two-block message hashes to the FIPS 180 value")
    func twoBlocks() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(hex(SHA1.hash(Array(message.utf8))) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    @Test("'The quick brown fox' hashes to the well-known value")
    func quickBrownFox() {
        let message = "The quick brown fox jumps over the lazy dog"
        #expect(hex(SHA1.hash(Array(message.utf8))) == "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
    }

    @Test("a million 'a' hashes to the FIPS 180 value")
    func millionA() {
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 1_000_000))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("messages of 55, 56 and 64 bytes straddle the padding boundary correctly")
    func paddingBoundaries() {
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 55))) == "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 56))) == "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 64))) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }

    @Test("hashing in pieces equals hashing at once")
    func incrementalUpdate() {
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        var sha = SHA1()
        sha.update(message[0..<3])
        sha.update(message[3..<40])
        sha.update(message[40...])
        #expect(sha.finalize() == SHA1.hash(message))
    }
}

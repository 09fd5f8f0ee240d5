@testable import RedisClient
import ClientSupport
import Testing

@Suite struct RedisScriptTests {
    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
    ])
    func sha1MatchesTheStandardVectors(message: String, digest: String) {
        #expect(SHA1.hexDigest(of: Array(message.utf8)) == digest)
    }

    @Test func sha1HandlesMessagesSpanningSeveralBlocks() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000)
        #expect(SHA1.hexDigest(of: message) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    @Test func scriptNamesItselfByTheSHA1OfItsSource() {
        let script = RedisScript("return 1")
        #expect(script.sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        #expect(script.source == "return 1")
    }
}

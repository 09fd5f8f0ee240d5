import Testing
import WebSocket

@Suite("UTF-8 validation")
struct UTF8ValidatorTests {
    @Test("ASCII, 2-, 3- and 4-byte characters are valid")
    func validText() {
        #expect(UTF8Validator.isValid(Array("hello".utf8)))
        #expect(UTF8Validator.isValid(Array("κόσμε 小智 🎤 \u{10FFFF}".utf8)))
        #expect(UTF8Validator.isValid([]))
    }

    @Test("invalid sequences are rejected", arguments: [
        [0x80],  // lone continuation byte
        [0xC0, 0xAF],  // overlong '/'
        [0xC1, 0xBF],  // overlong
        [0xE0, 0x80, 0xAF],  // overlong 3-byte
        [0xF0, 0x80, 0x80, 0xAF],  // overlong 4-byte
        [0xED, 0xA0, 0x80],  // UTF-16 surrogate U+D800
        [0xED, 0xBF, 0xBF],  // surrogate U+DFFF
        [0xF4, 0x90, 0x80, 0x80],  // U+110000
        [0xF5, 0x80, 0x80, 0x80],  // beyond Unicode
        [0xFE], [0xFF],
        [0xCE, 0x41],  // continuation expected
        [0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x20, 0x77, 0x6F, 0x72, 0x6C, 0x64, 0xFF],  // after an ASCII run
    ] as [[UInt8]])
    func invalidSequences(bytes: [UInt8]) {
        #expect(!UTF8Validator.isValid(bytes))
    }

    @Test("a sequence cut at the end is incomplete, not invalid")
    func truncatedAtEnd() {
        var validator = UTF8Validator()
        #expect(validator.consume([0x68, 0xF0, 0x9F]) == true)
        #expect(!validator.isAtCharacterBoundary)
        #expect(!UTF8Validator.isValid([0x68, 0xF0, 0x9F]))
    }

    @Test("a 4-byte character split across every possible boundary validates")
    func splitCharacter() {
        let bytes = Array("a🎤b".utf8)
        for cut in 0...bytes.count {
            var validator = UTF8Validator()
            #expect(validator.consume(Array(bytes[..<cut])) == true)
            #expect(validator.consume(Array(bytes[cut...])) == true)
            #expect(validator.isAtCharacterBoundary)
        }
    }

    @Test("an invalid byte after a split lead byte is caught in the next chunk")
    func invalidAfterSplit() {
        var validator = UTF8Validator()
        #expect(validator.consume([0xE0]) == true)
        #expect(validator.consume([0x80, 0x80]) == false)
    }
}

import JSON
import Testing
@testable import MCP

@Suite struct JSONValueTests {
    @Test func keepsNumbersAsTheirSourceText() throws {
        let value = try JSONValue(parsing: #"[12345678901234567890123456789, -0.5e-10, 1.0, 0]"#)
        #expect(value.jsonText == "[12345678901234567890123456789,-0.5e-10,1.0,0]")
    }

    @Test func keepsObjectMemberOrder() throws {
        let text = #"{"z":1,"a":{"y":[true,false,null],"b":"c"}}"#
        #expect(try JSONValue(parsing: text).jsonText == text)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\/\n\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/\né😀"))
    }

    @Test func writesControlCharactersEscaped() {
        #expect(JSONValue.string("a\u{01}\n\"").jsonText == #""a\u0001\n\"""#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "tru", "\"abc", "{\"a\" 1}", "[1 2]", "\"\\x\"",
        "\"\\ud800\"", "1 2", "nul", "{'a':1}", "\"a\u{01}b\"",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func rejectsNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
    }

    @Test func comparesObjectsIgnoringMemberOrder() throws {
        let a = try JSONValue(parsing: #"{"a":1,"b":[1,{"c":2,"d":3}]}"#)
        let b = try JSONValue(parsing: #"{"b":[1,{"d":3,"c":2}],"a":1}"#)
        #expect(a.isSemanticallyEqual(to: b))
        #expect(!a.isSemanticallyEqual(to: try JSONValue(parsing: #"{"a":1,"b":[{"d":3,"c":2},1]}"#)))
    }
}

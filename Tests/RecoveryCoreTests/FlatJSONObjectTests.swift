import Foundation
import JSON
import Testing
@testable import RecoveryCore

@Suite struct FlatJSONObjectTests {
    static let valid: [String] = [
        #"{}"#,
        #" { "a" : 1 , "b":"x" } "#,
        #"{"s":"plain","e":"q\"b\\s\/n\nt\tr\rb\bf\f","u":"\u00e9\u4e2d\ud83d\ude00","raw":"中文 é 😀"}"#,
        #"{"n":0,"neg":-12,"f":1.5,"e":1e3,"E":-2.5E-2,"z":-0,"big":123456789012345678901234567890}"#,
        #"{"t":true,"f":false,"n":null}"#,
        #"{"dup":1,"dup":2}"#,
        "{\n\t\"ws\"\r\n:\n\"v\"\n}",
        #"{"ServerId":"3f1c","Status":0,"LastHeartbeat":"2026-11-27T00:00:30.5Z","LastDisconnectedTime":null}"#,
    ]

    static let invalid: [String] = [
        "", " ", "{", "}", "[]", "[1]", "42", "\"s\"", "null", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{,}"#,
        #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":1e}"#, #"{"a":+1}"#, #"{"a":tru}"#, #"{"a":"x"}x"#,
        #"{a:1}"#, "{\"a\":\"line\nbreak\"}", #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\udc00"}"#,
        #"{"a":"\ud800x"}"#, #"{"a":[1,2}"#, #"{"a":"unterminated}"#, #"{"a":1 "b":2}"#,
    ]

    @Test(arguments: valid)
    func scannerAgreesWithTheFullParserOnValidObjects(text: String) throws {
        let data = Data(text.utf8)
        let scanned = try #require(FlatJSONObject.scan(data), "the scanner declined \(text)")
        #expect(scanned == (try FlatJSONObject.parseFully(Array(data))), "\(text)")
    }

    @Test func aNestedValueIsLeftToTheFullParser() throws {
        let text = #"{"nested":{"a":[1,{"b":"}]"}],"c":"\"{"},"arr":[],"after":7}"#
        #expect(FlatJSONObject.scan(Data(text.utf8)) == nil)
        let fields = try FlatJSONObject.parse(text)
        #expect(fields["after"] == .number("7"))
        #expect(fields["arr"] == .array([]))
        #expect(fields["nested"]?["c"] == .string("\"{"))
    }

    @Test func wholeNumbersAreReadTolerantly() {
        #expect(JSONValue.number("3").wholeNumber == 3)
        #expect(JSONValue.number("3.0").wholeNumber == 3)
        #expect(JSONValue.number("-2e1").wholeNumber == -20)
        #expect(JSONValue.number("1.5").wholeNumber == nil)
        #expect(JSONValue.number("123456789012345678901234567890").wholeNumber == nil)
        #expect(JSONValue.string("3").wholeNumber == nil)
    }

    @Test func duplicateNamesKeepTheLastValue() throws {
        #expect(FlatJSONObject.scan(Data(#"{"dup":1,"dup":2}"#.utf8))?["dup"] == .number("2"))
    }

    @Test func escapesAreDecoded() throws {
        let fields = try #require(FlatJSONObject.scan(Data(#"{"e":"q\"b\\s\/n\n","u":"\u00e9\ud83d\ude00"}"#.utf8)))
        #expect(fields["e"] == .string("q\"b\\s/n\n"))
        #expect(fields["u"] == .string("é😀"))
    }

    @Test(arguments: invalid)
    func scannerDeclinesInvalidJSON(text: String) {
        #expect(FlatJSONObject.scan(Data(text.utf8)) == nil)
    }

    @Test func invalidUTF8IsDeclined() {
        #expect(FlatJSONObject.scan(Data([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D])) == nil)
    }

    @Test func parseReportsNotJSONAndNotAnObject() {
        #expect(throws: FlatJSONObject.Failure.notJSON) { try FlatJSONObject.parse(Data("{oops".utf8)) }
        #expect(throws: FlatJSONObject.Failure.notAnObject) { try FlatJSONObject.parse(Data("[1,2]".utf8)) }
        #expect(throws: FlatJSONObject.Failure.notAnObject) { try FlatJSONObject.parse(Data("7".utf8)) }
    }

    @Test func randomFlatObjectsWrittenByFoundationScanAsTheFullParserReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcXYZ019 _-\"\\/\n\té中😀{}[],:")
        for _ in 0..<300 {
            var object: [String: Any] = [:]
            for field in 0..<Int.random(in: 0...8, using: &generator) {
                let name = "k\(field)" + String((0..<Int.random(in: 0...4, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
                switch Int.random(in: 0...4, using: &generator) {
                case 0: object[name] = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
                case 1: object[name] = Int.random(in: -1_000_000...1_000_000, using: &generator)
                case 2: object[name] = Bool.random(using: &generator)
                case 3: object[name] = NSNull()
                default: object[name] = Double(Int.random(in: -1000...1000, using: &generator)) / 8
                }
            }
            let data = try JSONSerialization.data(withJSONObject: object)
            let scanned = try #require(FlatJSONObject.scan(data), "declined \(String(decoding: data, as: UTF8.self))")
            #expect(scanned == (try FlatJSONObject.parseFully(Array(data))), "\(String(decoding: data, as: UTF8.self))")
        }
    }
}

import Foundation
import Testing
@testable import RecoveryCore

/// A value quoted in an error is shown on one line, whatever control characters it holds: the error is
/// printed and logged, and a line break in it would forge a second line.
@Suite struct OneLineErrorTests {
    @Test func aConfigValueWithALineBreakIsQuotedEscaped() {
        do {
            _ = try ConfigurationLoader.load(fileContents: nil, environment: [:], overrides: ["Worker:MaxSessions=5\r\nfake: line"])
            Issue.record("a value with a line break is accepted")
        } catch {
            #expect(!error.description.contains("\n") && !error.description.contains("\r"), "\(error.description)")
            #expect(error.description.contains("5\\u{D}\\u{A}fake: line"), "\(error.description)")
        }
    }

    @Test func aStoredStateWithALineBreakInADateIsRefusedOnOneLine() {
        let value = #"{"ServerId":"s","Status":"Connected","LastConnectedTime":"2026-12-05\nT10:00:00Z"}"#
        do {
            _ = try ConnectionState.decode(Data(value.utf8))
            Issue.record("a state with a line break in a date is accepted")
        } catch {
            #expect(!error.description.contains("\n"), "\(error.description)")
        }
    }

    @Test func controlCharactersOfEveryKindAreEscaped() {
        #expect("a\u{0}b\u{1B}c\u{7F}d\u{85}e\u{2028}f".escapingControlCharacters == "a\\u{0}b\\u{1B}c\\u{7F}d\\u{85}e\\u{2028}f")
        #expect("plain 小智".escapingControlCharacters == "plain 小智")
    }
}

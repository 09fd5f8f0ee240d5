import Foundation
import Testing
@testable import RecoveryCore

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        let date = Date(timeIntervalSince1970: 1_764_201_663.123_9)
        #expect(Timestamp.format(date) == "2025-11-27T00:01:03.123Z")
    }

    @Test func formatsDatesBeforeTheEpoch() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
    }

    @Test func formatsLeapDay() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
    }

    @Test func yearsBeyondFourDigitsAreWrittenWhole() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -62_167_219_200)) == "0000-01-01T00:00:00.000Z")
    }

    @Test func roundTripsToTheMillisecond() throws {
        let date = Date(timeIntervalSince1970: 1_800_000_000.456)
        let parsed = try #require(Timestamp.parse(Timestamp.format(date)))
        #expect(abs(parsed.timeIntervalSince(date)) < 0.001)
    }

    @Test func everyMillisecondRoundTripsExactly() throws {
        for base in ["2026-11-27T00:01:03", "1999-12-31T23:59:59", "2038-01-19T03:14:07"] {
            for millis in 0..<1000 {
                let text = base + "." + String(format: "%03d", millis) + "Z"
                #expect(Timestamp.format(try #require(Timestamp.parse(text))) == text)
            }
        }
    }

    @Test(arguments: [
        ("2025-11-27T00:01:03Z", 1_764_201_663.0),
        ("2025-11-27T00:01:03.5Z", 1_764_201_663.5),
        ("2025-11-27T00:01:03.1234567Z", 1_764_201_663.123_456_7),
        ("2025-11-27T08:01:03+08:00", 1_764_201_663.0),
        ("2025-11-27T08:01:03.250+0800", 1_764_201_663.25),
        ("2025-11-26T23:01:03-01", 1_764_201_663.0),
        ("2025-11-27T00:01:03", 1_764_201_663.0),
        ("2025-11-27 00:01:03z", 1_764_201_663.0),
        ("0001-01-01T00:00:00", -62_135_596_800.0),
    ])
    func parsesTheFormsDotNetAndOthersWrite(text: String, seconds: Double) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_01)
    }

    @Test(arguments: [
        "", "2025-11-27", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-11-27T24:00:00Z",
        "2025-11-27T00:60:00Z", "2025-11-27T00:00:00.Z", "2025-11-27T00:00:00Q", "2025-11-27T00:00:00+25:00",
        "yesterday", "2025-11-27T00:00:00Z trailing", "2023-02-29T00:00:00Z",
    ])
    func rejectsMalformedDates(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}

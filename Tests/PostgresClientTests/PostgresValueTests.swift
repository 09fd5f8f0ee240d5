import Foundation
import PostgresClient
import Testing

@Suite struct PostgresValueTests {
    @Test func parametersHaveTheirTextForms() {
        #expect(PostgresValue.text("x'y").parameterText == "x'y")
        #expect(PostgresValue.integer(-42).parameterText == "-42")
        #expect(PostgresValue.bool(true).parameterText == "true")
        #expect(PostgresValue.bool(false).parameterText == "false")
        #expect(PostgresValue.null.parameterText == nil)
        #expect(PostgresValue(nil as String?) == .null)
        #expect(PostgresValue.timestamp(Date(timeIntervalSince1970: 0)).parameterText == "1970-01-01 00:00:00.000000+00")
    }

    @Test func literalsBuildParameters() {
        let parameters: [PostgresValue] = ["text", 7, true, nil]
        #expect(parameters == [.text("text"), .integer(7), .bool(true), .null])
    }

    @Test func timestampsFormatInUTCWithMicroseconds() {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123456)
        #expect(PostgresTimestamp.format(date) == "2026-11-18 11:06:40.123456+00")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31 23:59:58.500000+00")
    }

    @Test(arguments: [
        ("2026-11-18 11:06:40.123456+00", 1_795_000_000.123456),
        ("2026-11-18 11:06:40+00", 1_795_000_000),
        ("2026-11-18 19:06:40.5+08", 1_795_000_000.5),
        ("2026-11-18 05:36:40-05:30", 1_795_000_000),
        ("2026-11-18 11:06:40", 1_795_000_000),
        ("2000-02-29 00:00:00+00", 951_782_400),
    ])
    func timestampsParseWithOffsets(text: String, seconds: Double) throws {
        let date = try #require(PostgresTimestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test(arguments: ["infinity", "2026-13-01 00:00:00+00", "2026-11-18", "2026-11-18 08:26:40+0x", "0044-03-15 00:00:00 BC"])
    func malformedTimestampsAreRejected(text: String) {
        #expect(PostgresTimestamp.parse(text) == nil)
    }

    @Test func formattedTimestampsParseBack() throws {
        for seconds in [0.0, 1.000001, 951_782_399.999999, 4_102_444_800.25] {
            let date = Date(timeIntervalSince1970: seconds)
            let parsed = try #require(PostgresTimestamp.parse(PostgresTimestamp.format(date)))
            #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.000_001)
        }
    }
}

import Foundation

/// Text forms of `timestamptz` in the ISO date style: formatting parameters and parsing result cells.
/// Pure arithmetic on the proleptic Gregorian calendar (no formatter objects, safe on any thread).
public enum PostgresTimestamp {
    /// `2026-11-27 08:15:30.123456+00`: UTC, microseconds.
    public static func format(_ date: Date) -> String {
        let totalMicroseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var days = totalMicroseconds / 86_400_000_000
        var microsecondsOfDay = totalMicroseconds % 86_400_000_000
        if microsecondsOfDay < 0 {
            microsecondsOfDay += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let seconds = microsecondsOfDay / 1_000_000
        let micros = microsecondsOfDay % 1_000_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(micros, 6))+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]]` (a missing offset means UTC);
    /// nil for anything else, including `infinity` and BC dates.
    public static func parse(_ text: some StringProtocol) -> Date? {
        var text = String(text)
        return text.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// `parse(_:)` over the text's UTF-8 bytes, without copying them (a result cell's bytes as libpq holds them).
    public static func parse(utf8 bytes: UnsafeRawBufferPointer) -> Date? {
        var text = TimestampCursor(bytes: bytes)
        guard let year = text.number(4), text.skip("-"), let month = text.number(2), text.skip("-"),
              let day = text.number(2), text.skip(" ") || text.skip("T"),
              let hour = text.number(2), text.skip(":"), let minute = text.number(2), text.skip(":"),
              let second = text.number(2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var micros: Int64 = 0
        if text.skip(".") {
            guard let fraction = text.fractionMicroseconds() else { return nil }
            micros = fraction
        }
        var offsetSeconds: Int64 = 0
        if !text.atEnd {
            let sign: Int64
            if text.skip("+") { sign = 1 } else if text.skip("-") { sign = -1 } else { return nil }
            guard let offsetHours = text.number(2) else { return nil }
            var offset = offsetHours * 3600
            if text.skip(":") {
                guard let offsetMinutes = text.number(2) else { return nil }
                offset += offsetMinutes * 60
                if text.skip(":") {
                    guard let offsetSecondsPart = text.number(2) else { return nil }
                    offset += offsetSecondsPart
                }
            }
            offsetSeconds = sign * offset
            guard text.atEnd else { return nil }
        }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    /// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// A read position in a timestamp's text.
private struct TimestampCursor {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var atEnd: Bool { index >= bytes.count }

    /// Reads exactly `digits` decimal digits.
    mutating func number(_ digits: Int) -> Int64? {
        guard index + digits <= bytes.count else { return nil }
        var value: Int64 = 0
        for offset in 0..<digits {
            let byte = bytes[index + offset]
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int64(byte - 48)
        }
        index += digits
        return value
    }

    /// Skips `character` if it is next.
    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// Reads one or more fraction digits as microseconds (digits past the sixth are ignored).
    mutating func fractionMicroseconds() -> Int64? {
        var micros: Int64 = 0
        var scale: Int64 = 100_000
        var digits = 0
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
            if digits < 6 { micros += Int64(bytes[index] - 48) * scale }
            scale /= 10
            digits += 1
            index += 1
        }
        return digits > 0 ? micros : nil
    }
}

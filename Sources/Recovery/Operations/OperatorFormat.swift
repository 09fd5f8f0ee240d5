import Foundation
import RecoveryCore

/// How the operator tables print times and ages.
public enum OperatorFormat {
    /// A compact age such as `42s`, `3m12s`, `5h07m`, `2d04h` (0s for a time in the future).
    public static func age(from date: Date, to now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m\(pad(seconds % 60))s"
        case ..<86400: return "\(seconds / 3600)h\(pad(seconds % 3600 / 60))m"
        default: return "\(seconds / 86400)d\(pad(seconds % 86400 / 3600))h"
        }
    }

    /// An ISO-8601 UTC time with its age, e.g. `2026-11-27T00:30:00.000Z (3m12s ago)`; `-` when absent.
    public static func time(_ date: Date?, now: Date) -> String {
        guard let date else { return "-" }
        return Timestamp.format(date) + " (" + age(from: date, to: now) + " ago)"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension OperatorFormat {
    /// At most `limit` characters of `text` on one line, with `…` when cut.
    public static func excerpt(_ text: String, limit: Int = 80) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }
}

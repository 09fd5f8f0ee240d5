import Foundation
import RecoveryCore

/// `scheduler dead list`'s output: one row per dead letter, oldest first.
public struct DeadLetterListing: Sendable, Equatable {
    public var letters: [DeadLetter]
    public var takenAt: Date

    public init(letters: [DeadLetter], takenAt: Date) {
        self.letters = letters
        self.takenAt = takenAt
    }

    /// The aligned table: SERVER REASON ATTEMPTS DIED LAST ERROR (`-` for what is unknown).
    public func table() -> String {
        var table = OperatorTable(headers: ["SERVER", "REASON", "ATTEMPTS", "DIED", "LAST ERROR"])
        for letter in letters {
            table.append([
                letter.endpointId?.rawValue ?? "-", letter.reason, letter.attempts.map(String.init) ?? "-",
                letter.diedAt.map { Timestamp.format($0) + " (" + OperatorFormat.age(from: $0, to: takenAt) + " ago)" } ?? "-",
                letter.lastError.map { OperatorFormat.excerpt($0) } ?? "-",
            ])
        }
        return table.rendered()
    }

    /// A JSON array, one object per letter.
    public func json(pretty: Bool = true) -> String {
        OperatorJSON.render(letters.map { letter in
            [
                ("serverId", .optional(letter.endpointId?.rawValue)), ("jobId", .optional(letter.job?.jobId)),
                ("messageId", .optional(letter.messageId)), ("reason", .string(letter.reason)),
                ("attempts", .optional(letter.attempts)), ("errorKind", .optional(letter.errorKind)),
                ("lastError", .optional(letter.lastError)), ("diedAt", .time(letter.diedAt)),
                ("malformed", .bool(letter.job == nil)),
            ]
        }, pretty: pretty)
    }

    /// `N dead-lettered jobs` (and how many of them are malformed), for the end of the table.
    public var summary: String {
        let malformed = letters.filter { $0.job == nil }.count
        let noun = letters.count == 1 ? "dead-lettered job" : "dead-lettered jobs"
        return malformed == 0 ? "\(letters.count) \(noun)" : "\(letters.count) \(noun) (\(malformed) malformed)"
    }
}

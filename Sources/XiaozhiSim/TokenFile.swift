import Foundation

/// Reads the allowed tokens: one a line; blank lines and lines starting with `#` are skipped.
enum TokenFile {
    static func parse(_ text: String) -> Set<String> {
        Set(
            text.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }
}

import ClientSupport

extension Redaction {
    /// Whether `text` reads as a libpq keyword/value connection string (`host=db password=…`) rather
    /// than a URL: it has an `=` and no `://`.
    public static func looksLikeConninfo(_ text: String) -> Bool {
        !text.contains("://") && text.contains("=")
    }

    /// A libpq keyword/value connection string with every secret keyword's value replaced by `***`
    /// (the clients' rule, `redactingConninfoSecrets`).
    public static func conninfo(_ text: String) -> String {
        redactingConninfoSecrets(in: text)
    }

    /// A connection setting that failed validation, fit to show in the error: it may be mistyped
    /// anywhere, so secret keywords of the libpq form are hidden, and so is everything before the last
    /// `@` of the part ahead of any query (a password holding a raw `/`, or a URL missing a slash of
    /// `://`, would slip past the usual userinfo rule), and secret query values.
    public static func mistypedConnectionSetting(_ value: String) -> String {
        var text = looksLikeConninfo(value) ? conninfo(value) : value
        // Separators are found on UTF-8 bytes: a combining mark after one must not hide it.
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        let end = text.utf8[start...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? text.endIndex
        if let at = text.utf8[start..<end].lastIndex(of: UInt8(ascii: "@")) {
            text = String(text[..<start]) + mask + String(text[at...])
        }
        return webSocketAddress(text)
    }
}

/// libpq keywords whose values are secrets (compared case-insensitively).
let conninfoSecretKeywords: Set<String> = ["password", "sslpassword"]

extension Redaction {
    /// A libpq keyword/value connection string (`host=db user=app password=s3cret`) with the value of every
    /// secret keyword replaced by `***`, the rest as it was. Follows libpq's grammar (spaces around `=`,
    /// single-quoted values with backslash escapes); a secret keyword without a readable value hides
    /// everything after it, so a malformed string leaks nothing.
    public static func conninfo(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        while index < bytes.count {
            // Whitespace between pairs is kept as it is.
            if isSpace(bytes[index]) {
                out.append(bytes[index])
                index += 1
                continue
            }
            let keywordStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "="), !isSpace(bytes[index]) { index += 1 }
            let keyword = String(decoding: bytes[keywordStart..<index], as: UTF8.self)
            let isSecret = conninfoSecretKeywords.contains(keyword.lowercased())
            out.append(contentsOf: bytes[keywordStart..<index])
            var cursor = index
            while cursor < bytes.count, isSpace(bytes[cursor]) { cursor += 1 }
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "=") else {
                if isSecret {
                    out.append(contentsOf: Array(" ***".utf8))
                    return String(decoding: out, as: UTF8.self)
                }
                continue
            }
            out.append(contentsOf: bytes[index...cursor])
            index = cursor + 1
            while index < bytes.count, isSpace(bytes[index]) {
                out.append(bytes[index])
                index += 1
            }
            let valueStart = index
            var closed = true
            if index < bytes.count, bytes[index] == UInt8(ascii: "'") {
                index += 1
                closed = false
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "'") {
                        index += 1
                        closed = true
                        break
                    }
                    index += 1
                }
            } else {
                while index < bytes.count, !isSpace(bytes[index]) {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
            }
            index = min(index, bytes.count)
            if isSecret {
                out.append(contentsOf: Array("***".utf8))
                // An unterminated quote swallowed the rest: nothing after it is shown.
                if !closed { return String(decoding: out, as: UTF8.self) }
            } else {
                out.append(contentsOf: bytes[valueStart..<index])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` reads as a libpq keyword/value connection string (`host=db password=…`) rather
    /// than a URL: it has an `=` and no `://`.
    public static func looksLikeConninfo(_ text: String) -> Bool {
        !text.contains("://") && text.contains("=")
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

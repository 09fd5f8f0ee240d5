/// Last line of defence against a secret in a log line: masks URL passwords, `token=`-style query
/// values and authorization header values in free text. Code should not log secrets at all; this catches
/// what slips through (a peer's error message quoting a URL, say). It reads Unicode scalars, not
/// characters, so a combining mark after `@`, `?` or `=` cannot hide a separator.
extension Redaction {

    /// `text` with every secret it recognises replaced by `***`.
    public static func text(_ text: String) -> String {
        guard mayContainSecret(text) else { return text }
        var scalars = Array(text.unicodeScalars)
        scalars = redactUserinfoPasswords(scalars)
        scalars = redactQueryParameters(scalars)
        scalars = redactAuthorizationValues(scalars)
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }

    private static func mayContainSecret(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("://") || lower.contains("=") || lower.contains("authorization") || lower.contains("bearer")
    }

    private static let maskScalars = Array(mask.unicodeScalars)

    /// `scheme://user:password@host` → `scheme://user:***@host`.
    private static func redactUserinfoPasswords(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            guard i + 2 < text.count, text[i] == ":", text[i + 1] == "/", text[i + 2] == "/" else {
                out.append(text[i])
                i += 1
                continue
            }
            out += text[i...(i + 2)]
            let start = i + 3
            var end = start
            while end < text.count, !["/", " ", "?", "\"", "'", "\n"].contains(text[end]) { end += 1 }
            let authority = text[start..<end]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out += authority[...colon]
                out += maskScalars
                out += authority[at...]
            } else {
                out += authority
            }
            i = end
        }
        return out
    }

    /// `?token=abc&x=1` → `?token=***&x=1` for the parameter names that carry secrets.
    private static func redactQueryParameters(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            output.append(text[i])
            if text[i] == "=" {
                var j = i - 1
                while j >= 0, text[j].properties.isAlphabetic || text[j].properties.numericType != nil || text[j] == "_" { j -= 1 }
                var name = String.UnicodeScalarView()
                name.append(contentsOf: text[(j + 1)..<i])
                let separatorBefore = j < 0 || ["?", "&", " ", ";"].contains(text[j])
                if separatorBefore, secretQueryNames.contains(String(name).lowercased()) {
                    var k = i + 1
                    while k < text.count, !["&", " ", "\"", "'", "#", "\n"].contains(text[k]) { k += 1 }
                    if k > i + 1 { output += maskScalars }
                    i = k
                    continue
                }
            }
            i += 1
        }
        return output
    }

    /// `Authorization: Bearer abc` / `Bearer abc` → `Authorization: Bearer ***`.
    private static func redactAuthorizationValues(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result = text
        for marker in ["Bearer ", "bearer ", "Basic ", "basic "].map({ Array($0.unicodeScalars) }) {
            var searchStart = 0
            while let start = firstRange(of: marker, in: result, from: searchStart) {
                let valueStart = start + marker.count
                var valueEnd = valueStart
                while valueEnd < result.count, ![" ", "\"", "'", ",", "\n"].contains(result[valueEnd]) { valueEnd += 1 }
                if valueEnd > valueStart, Array(result[valueStart..<valueEnd]) != maskScalars {
                    result.replaceSubrange(valueStart..<valueEnd, with: maskScalars)
                }
                searchStart = min(valueStart + maskScalars.count, result.count)
            }
        }
        return result
    }

    private static func firstRange(of needle: [Unicode.Scalar], in text: [Unicode.Scalar], from start: Int) -> Int? {
        guard needle.count <= text.count, start <= text.count - needle.count else { return nil }
        for index in start...(text.count - needle.count) where text[index] == needle[0] {
            if text[index..<(index + needle.count)].elementsEqual(needle) { return index }
        }
        return nil
    }
}

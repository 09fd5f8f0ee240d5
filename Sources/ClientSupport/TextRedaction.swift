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

    /// Whether `text` has anything the redactions below would change. Most log lines carry `key=value`
    /// metadata and no secret, so an ASCII line is checked in one pass over its bytes for what the
    /// redactions look for; any other text takes them all.
    private static func mayContainSecret(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return true }
            return contains("://", in: bytes) || hasSecretParameter(bytes) || contains("authorization", in: bytes, ignoringCase: true)
                || contains("bearer ", in: bytes, ignoringCase: true) || contains("basic ", in: bytes, ignoringCase: true)
        }
    }

    /// An `=` after a name that `redactQueryParameters` hides (whatever comes before the name).
    private static func hasSecretParameter(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in bytes.indices where bytes[index] == UInt8(ascii: "=") {
            var start = index
            while start > 0, isNameByte(bytes[start - 1]) { start -= 1 }
            guard start < index else { continue }
            let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self).lowercased()
            if secretQueryNames.contains(name) { return true }
        }
        return false
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): true
        default: false
        }
    }

    /// Whether ASCII `needle` occurs in `bytes`, letters compared without case when asked.
    private static func contains(_ needle: StaticString, in bytes: UnsafeBufferPointer<UInt8>, ignoringCase: Bool = false) -> Bool {
        let count = needle.utf8CodeUnitCount
        guard count <= bytes.count else { return false }
        return needle.withUTF8Buffer { pattern in
            let fold: (UInt8) -> UInt8 = { ignoringCase && $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
            outer: for start in 0...(bytes.count - count) {
                for offset in 0..<count where fold(bytes[start + offset]) != fold(pattern[offset]) { continue outer }
                return true
            }
            return false
        }
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

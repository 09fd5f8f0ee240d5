/// Last line of defence against a secret in a log line: masks URL passwords, `token=`-style query
/// values and authorization header values in free text. Code should not log secrets at all; this catches
/// what slips through (a peer's error message quoting a URL, say).
public enum LogRedaction {
    static let mask = "***"
    private static let secretParameters = ["token", "access_token", "apikey", "api_key", "password", "secret", "key"]

    /// `text` with every secret it recognises replaced by `***`.
    public static func redact(_ text: String) -> String {
        guard mayContainSecret(text) else { return text }
        var out = redactUserinfoPasswords(text)
        out = redactQueryParameters(out)
        out = redactAuthorizationValues(out)
        return out
    }

    private static func mayContainSecret(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("://") || lower.contains("=") || lower.contains("authorization") || lower.contains("bearer")
    }

    /// `scheme://user:password@host` → `scheme://user:***@host`.
    private static func redactUserinfoPasswords(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "?" || $0 == "\"" || $0 == "'" || $0 == "\n" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon] + mask + authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        return result + rest
    }

    /// `?token=abc&x=1` → `?token=***&x=1` for the parameter names that carry secrets.
    private static func redactQueryParameters(_ text: String) -> String {
        var chars = Array(text)
        var i = 0
        var output: [Character] = []
        output.reserveCapacity(chars.count)
        while i < chars.count {
            output.append(chars[i])
            if chars[i] == "=" {
                var j = i - 1
                while j >= 0, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j -= 1 }
                let name = String(chars[(j + 1)..<i]).lowercased()
                let separatorBefore = j < 0 || chars[j] == "?" || chars[j] == "&" || chars[j] == " " || chars[j] == ";"
                if separatorBefore, secretParameters.contains(name) {
                    var k = i + 1
                    while k < chars.count, !(chars[k] == "&" || chars[k] == " " || chars[k] == "\"" || chars[k] == "'" || chars[k] == "#" || chars[k] == "\n") { k += 1 }
                    if k > i + 1 { output.append(contentsOf: mask) }
                    i = k
                    continue
                }
            }
            i += 1
        }
        chars = output
        return String(chars)
    }

    /// `Authorization: Bearer abc` / `Bearer abc` → `Authorization: Bearer ***`.
    private static func redactAuthorizationValues(_ text: String) -> String {
        var result = text
        for marker in ["Bearer ", "bearer ", "Basic ", "basic "] {
            var searchStart = result.startIndex
            while let range = result.range(of: marker, range: searchStart..<result.endIndex) {
                let valueEnd = result[range.upperBound...].firstIndex(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "," || $0 == "\n" }) ?? result.endIndex
                if valueEnd > range.upperBound, result[range.upperBound..<valueEnd] != Substring(mask) {
                    result.replaceSubrange(range.upperBound..<valueEnd, with: mask)
                }
                searchStart = result.index(range.upperBound, offsetBy: mask.count, limitedBy: result.endIndex) ?? result.endIndex
            }
        }
        return result
    }
}

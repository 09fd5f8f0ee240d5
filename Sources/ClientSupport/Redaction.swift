import Foundation

/// The one place secrets are hidden before they reach a log line, a metric, an error, a page or a Redis
/// value: addresses here; libpq connection strings and free text in the extensions beside it.
public enum Redaction {
    /// What replaces a hidden value.
    public static let mask = "***"

    /// Query parameter names whose values are hidden (compared case-insensitively, after percent-decoding).
    public static let secretQueryNames: Set<String> = [
        "token", "access_token", "accesstoken", "api_key", "apikey", "key", "password", "pass", "secret",
        "signature", "sig", "auth", "authorization",
    ]

    /// A ws/wss (or any) URL with its userinfo replaced by `***@`, the values of `token` and other
    /// secret-looking query parameters replaced by `***`, and any fragment dropped.
    /// `wss://api.xiaozhi.me/mcp/?token=eyJ…` becomes `wss://api.xiaozhi.me/mcp/?token=***`.
    public static func webSocketAddress(_ address: String) -> String {
        if !address.utf8.contains(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "@") }) {
            return address
        }
        var rest = Substring(address)
        let fragment = rest.utf8.firstIndex(of: UInt8(ascii: "#"))
        if let fragment { rest = rest[..<fragment] }
        var query: Substring?
        if let question = rest.utf8.firstIndex(of: UInt8(ascii: "?")) {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        if fragment == nil, !hasUserinfo(rest), !(query.map(needsRedaction) ?? false) {
            // Already redacted (as every address the pool stores is): the same string, nothing rebuilt.
            return address
        }
        var out = hideUserinfo(in: rest, keepingUser: false)
        if let query {
            out.append("?")
            out.append(redactQuery(query))
        }
        return out
    }

    /// A connection URL (`postgres://`, `redis://`, `amqp://`…) with the password of its userinfo replaced
    /// by `***` (a user name before `:` stays, it helps operators; a lone userinfo is hidden whole) and
    /// secret query values hidden.
    public static func connectionURL(_ url: String) -> String {
        var rest = Substring(url)
        var fragment: Substring?
        if let hash = rest.utf8.firstIndex(of: UInt8(ascii: "#")) {
            fragment = rest[hash...]
            rest = rest[..<hash]
        }
        var query: Substring?
        if let question = rest.utf8.firstIndex(of: UInt8(ascii: "?")) {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        var out = hideUserinfo(in: rest, keepingUser: true)
        if let query {
            out.append("?")
            out.append(redactQuery(query))
        }
        if let fragment { out.append(String(fragment)) }
        return out
    }

    /// Every query value replaced by `***`: `a=1&token=x` becomes `a=***&token=***`; a parameter without
    /// `=` becomes `***`. For addresses whose every parameter may carry a secret.
    public static func allQueryValues(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        return query.split(separator: "&", omittingEmptySubsequences: false).map { parameter in
            if let equals = parameter.firstIndex(of: "=") {
                return parameter[..<equals] + "=" + mask
            }
            return mask
        }.joined(separator: "&")
    }

    /// A best-effort redaction of an address that did not parse: no user info, no query, no fragment,
    /// no control characters, at most 200 characters.
    public static func unparsedAddress(_ text: String) -> String {
        var visible = Substring(text)
        var suffix = ""
        if let cut = visible.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            visible = visible[..<cut]
            suffix = "?" + mask
        }
        if let at = visible.lastIndex(of: "@") {
            let start = visible.range(of: "://").map(\.upperBound) ?? visible.startIndex
            if start <= at { visible = visible[..<start] + mask + "@" + visible[visible.index(after: at)...] }
        }
        let result = String(visible.prefix(200)) + suffix
        return String(result.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }

    /// An address with no user info, query or fragment (`?…` notes a query was there): for addresses
    /// whose query may hold secrets under any name, such as an upstream service's.
    public static func addressWithoutQuery(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.scheme != nil, components.host != nil else {
            return "<unparseable address>"
        }
        components.user = nil
        components.password = nil
        let hadQuery = components.query != nil
        components.query = nil
        components.fragment = nil
        return (components.string ?? "<unparseable address>") + (hadQuery ? "?…" : "")
    }

    /// `text` with every occurrence of a known secret (a password the process holds) replaced by `***`.
    public static func hiding(_ secret: String?, in text: String) -> String {
        guard let secret, !secret.isEmpty else { return text }
        return text.replacingOccurrences(of: secret, with: mask)
    }

    /// A URL with the password of its user information replaced by `***` (a lone userinfo hidden whole),
    /// even when the URL is malformed, so that an error can name the URL without leaking the secret.
    public static func urlPassword(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else {
            // Not a URL at all: perhaps libpq's keyword form, whose secret keywords are hidden; then show
            // nothing that could be a secret before an '@'.
            let text = url.contains("=") ? conninfo(url) : url
            if let at = text.lastIndex(of: "@") {
                return "***" + text[at...]
            }
            return text
        }
        let rest = url[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return url }
        let userInfo = rest[..<at]
        let redactedUserInfo: String
        if let colon = userInfo.firstIndex(of: ":") {
            redactedUserInfo = userInfo[..<colon] + ":***"
        } else {
            redactedUserInfo = "***"
        }
        return url[..<schemeEnd.upperBound] + redactedUserInfo + rest[at...]
    }

    /// Rewrites the userinfo of `scheme://userinfo@host/path` (query and fragment already removed).
    private static func hideUserinfo(in text: Substring, keepingUser: Bool) -> String {
        // Without `scheme://`, the text up to the first `/` is taken as the authority, so a mistyped
        // URL such as `redis:secret@host` still has its secret hidden.
        let authorityStart = schemeSeparatorEnd(in: text) ?? text.startIndex
        let authorityEnd = text[authorityStart...].utf8.firstIndex(of: UInt8(ascii: "/")) ?? text.endIndex
        let authority = text[authorityStart..<authorityEnd]
        guard let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")) else { return String(text) }
        let userinfo = authority[..<at]
        var replacement: String
        if keepingUser {
            if let colon = userinfo.utf8.firstIndex(of: UInt8(ascii: ":")) {
                replacement = String(userinfo[..<colon]) + ":" + mask
            } else {
                // A lone userinfo may be a password (`redis://secret@host` in several clients): hide it.
                replacement = mask
            }
        } else {
            replacement = mask
        }
        replacement.append("@")
        return String(text[..<authorityStart]) + replacement + String(authority[authority.utf8.index(after: at)...])
            + String(text[authorityEnd...])
    }

    /// Whether some secret-named parameter has a value other than the mask (a stored, already redacted
    /// address needs no rewrite).
    private static func needsRedaction(_ query: Substring) -> Bool {
        var rest = query
        while !rest.isEmpty {
            let end = rest.utf8.firstIndex(of: UInt8(ascii: "&")) ?? rest.endIndex
            let pair = rest[..<end]
            rest = end == rest.endIndex ? rest[end...] : rest[rest.utf8.index(after: end)...]
            guard let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")) else { continue }
            if secretQueryNames.contains(comparableName(pair[..<equals])), pair[pair.utf8.index(after: equals)...] != mask { return true }
        }
        return false
    }

    /// Whether `scheme://userinfo@host…` (query and fragment removed) has a userinfo, found the way
    /// `hideUserinfo` finds it.
    private static func hasUserinfo(_ text: Substring) -> Bool {
        let authorityStart = schemeSeparatorEnd(in: text) ?? text.startIndex
        let authorityEnd = text[authorityStart...].utf8.firstIndex(of: UInt8(ascii: "/")) ?? text.endIndex
        return text[authorityStart..<authorityEnd].utf8.contains(UInt8(ascii: "@"))
    }

    /// A query parameter name as `secretQueryNames` holds them: percent-decoded and lowercased. A name of
    /// plain lowercase ASCII (the usual case: every stored address is read this way) is taken as it is.
    private static func comparableName(_ raw: Substring) -> String {
        let plain = raw.utf8.allSatisfy { byte in
            byte != UInt8(ascii: "%") && byte != UInt8(ascii: "+") && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) && byte < 0x80
        }
        return plain ? String(raw) : String(raw).removingPercentEncodingLeniently.lowercased()
    }

    /// The index just after the first `://`, found on UTF-8 bytes.
    private static func schemeSeparatorEnd(in text: Substring) -> String.Index? {
        let bytes = text.utf8
        var index = bytes.startIndex
        while let colon = bytes[index...].firstIndex(of: UInt8(ascii: ":")) {
            let first = bytes.index(after: colon)
            guard first < bytes.endIndex, bytes[first] == UInt8(ascii: "/") else {
                index = first
                continue
            }
            let second = bytes.index(after: first)
            guard second < bytes.endIndex, bytes[second] == UInt8(ascii: "/") else {
                index = first
                continue
            }
            return bytes.index(after: second)
        }
        return nil
    }

    private static func redactQuery(_ query: Substring) -> String {
        guard needsRedaction(query) else { return String(query) }
        return query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")) else { return String(pair) }
            let name = pair[..<equals]
            if secretQueryNames.contains(comparableName(name)) {
                return String(name) + "=" + mask
            }
            return String(pair)
        }.joined(separator: "&")
    }
}

extension String {
    /// Percent-decodes `%XX` sequences (and `+` as a space); malformed sequences are kept as they are.
    fileprivate var removingPercentEncodingLeniently: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        let source = Array(utf8)
        var index = 0
        while index < source.count {
            let byte = source[index]
            if byte == UInt8(ascii: "%"), index + 2 < source.count,
               let high = hexDigitValue(source[index + 1]), let low = hexDigitValue(source[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Hides secrets in addresses before they reach a log line, a metric, an error or a Redis value.
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
               let high = hexValue(source[index + 1]), let low = hexValue(source[index + 2]) {
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

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

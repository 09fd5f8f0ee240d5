/// Replaces the password part of a URL's user information with `***`, even when the URL is malformed,
/// so that error messages can name the URL without leaking the secret.
public func redactingPassword(in url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else {
        // Not a URL at all: perhaps libpq's keyword form, whose secret keywords are hidden; then show
        // nothing that could be a secret before an '@'.
        let text = url.contains("=") ? redactingConninfoSecrets(in: url) : url
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

/// Decodes `%XX` escapes; returns nil when an escape is malformed or the result is not UTF-8.
public func percentDecoded(_ text: Substring) -> String? {
    guard text.contains("%") else { return String(text) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
        if byte == UInt8(ascii: "%") {
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        } else {
            bytes.append(byte)
        }
    }
    return String(validating: bytes, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

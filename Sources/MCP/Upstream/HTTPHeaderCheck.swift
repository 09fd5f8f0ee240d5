/// Checks a header before it is put on a request: names and values come from service configs and
/// table rows, and a CR, LF or NUL in them would inject headers or split the request on the wire.
/// What it reports names the header, never its value (values carry credentials).
enum HTTPHeaderCheck {
    /// Headers a service config may not set: they frame the request or carry the pool's own identity.
    static let reservedNames: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer",
        "content-type", "accept", "mcp-session-id", "mcp-protocol-version", "x-user-id",
    ]

    /// Why `name: value` cannot be sent, or nil when it can.
    static func problem(name: String, value: String, allowReserved: Bool = true) -> String? {
        if let nameProblem = problem(name: name) { return nameProblem }
        if !allowReserved, reservedNames.contains(name.lowercased()) {
            return "header '\(name)' is set by the pool itself and cannot come from a service config"
        }
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            return "the value of header '\(name)' contains a line break (CR or LF) or NUL"
        }
        return nil
    }

    /// Why `name` is not an HTTP token (RFC 9110 section 5.6.2), or nil when it is.
    static func problem(name: String) -> String? {
        guard !name.isEmpty else { return "a header name is empty" }
        let bytes = Array(name.utf8)
        guard let bad = bytes.firstIndex(where: { !isTokenByte($0) }) else { return nil }
        // Only the valid part is shown: what follows a bad byte may be an injected header and its secret.
        let shown = String(decoding: bytes[..<min(bad, 40)], as: UTF8.self)
        return "header name '\(shown)…' is not a valid HTTP header name (byte \(bad + 1) is not allowed)"
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

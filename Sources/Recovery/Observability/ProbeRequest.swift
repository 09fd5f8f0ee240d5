/// The part of an HTTP/1.x request a probe server needs: method and path, parsed from the request head.
struct ProbeRequest: Equatable, Sendable {
    var method: String
    var path: String

    /// Parses the request line of `head` (bytes up to the blank line); nil when it is not HTTP/1.x.
    init?(head: [UInt8]) {
        guard let end = head.firstIndex(of: UInt8(ascii: "\r")) ?? head.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: head[..<end], as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        method = String(parts[0])
        let target = parts[1]
        path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        guard path.hasPrefix("/") else { return nil }
    }
}

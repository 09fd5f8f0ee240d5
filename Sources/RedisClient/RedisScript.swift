import ClientSupport
/// A Lua script run with `EVALSHA`, falling back to `EVAL` when the server answers `NOSCRIPT`.
public struct RedisScript: Sendable, Equatable {
    public let source: String
    /// The lowercase hex SHA-1 of `source`, as Redis names the script.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(of: Array(source.utf8))
    }
}

/// A WebSocket address that cannot be used. Both kinds are permanent: retrying the same address cannot help.
/// The error carries only a redacted form of the address: never its query (which holds the token) or user info.
public struct WebSocketURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// A scheme other than `ws` or `wss` (e.g. `http`).
        case unsupportedScheme(String)
        case missingScheme
        case emptyHost
        /// A host name with characters outside letters, digits, `-`, `.` and `_`.
        case invalidHost
        case invalidIPv6Literal
        /// A port that is empty, not a number, or outside 1-65535.
        case invalidPort
        /// `user:password@` in the authority, which a WebSocket address must not carry.
        case userInfoNotAllowed
        /// A `#fragment`, which RFC 6455 forbids in WebSocket URIs.
        case fragmentNotAllowed
        /// Whitespace or control characters inside the address.
        case invalidCharacter

        public var description: String {
            switch self {
            case .unsupportedScheme(let scheme): "unsupported scheme '\(scheme)' (expected ws or wss)"
            case .missingScheme: "missing scheme (expected ws:// or wss://)"
            case .emptyHost: "empty host"
            case .invalidHost: "invalid host name"
            case .invalidIPv6Literal: "invalid IPv6 literal"
            case .invalidPort: "invalid port (expected 1-65535)"
            case .userInfoNotAllowed: "user info is not allowed in a WebSocket address"
            case .fragmentNotAllowed: "a fragment (#) is not allowed in a WebSocket address"
            case .invalidCharacter: "whitespace or control character in the address"
            }
        }
    }

    public let reason: Reason
    /// The address with its query and user info replaced by `***`, safe to log.
    public let redactedAddress: String

    public init(reason: Reason, redactedAddress: String) {
        self.reason = reason
        self.redactedAddress = redactedAddress
    }

    /// Whether the failure is the scheme (as opposed to a malformed address).
    public var isUnsupportedScheme: Bool {
        if case .unsupportedScheme = reason { return true }
        return false
    }

    public var description: String {
        "invalid WebSocket address '\(redactedAddress)': \(reason)"
    }
}

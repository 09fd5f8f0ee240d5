/// One reply from Redis, binary-safe: bulk strings are bytes.
public enum RedisReply: Sendable, Equatable, CustomStringConvertible {
    /// A simple status such as `OK` or `PONG`.
    case status(String)
    /// An error reply such as `NOSCRIPT No matching script...`.
    case error(String)
    case integer(Int64)
    /// A bulk string.
    case bulk([UInt8])
    /// The nil bulk string or nil array.
    case null
    case array([RedisReply])

    /// The bytes of a bulk string or status; nil otherwise.
    public var bytes: [UInt8]? {
        switch self {
        case let .bulk(bytes): bytes
        case let .status(text): Array(text.utf8)
        default: nil
        }
    }

    /// A bulk string or status decoded as UTF-8 (invalid sequences repaired); nil otherwise.
    public var string: String? {
        switch self {
        case let .bulk(bytes): String(decoding: bytes, as: UTF8.self)
        case let .status(text): text
        default: nil
        }
    }

    /// An integer reply, or a bulk string holding a decimal integer.
    public var integer: Int64? {
        switch self {
        case let .integer(value): value
        case let .bulk(bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisReply]? {
        if case let .array(elements) = self { return elements }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The message of an error reply.
    public var errorMessage: String? {
        if case let .error(message) = self { return message }
        return nil
    }

    /// A short description for error messages: the kind, and the size rather than the content of
    /// bulk strings (which may hold secrets).
    public var description: String {
        switch self {
        case let .status(text): "status \(text)"
        case let .error(message): "error \(message)"
        case let .integer(value): "integer \(value)"
        case let .bulk(bytes): "bulk string of \(bytes.count) bytes"
        case .null: "nil"
        case let .array(elements): "array of \(elements.count) elements"
        }
    }
}

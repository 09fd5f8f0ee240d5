/// An AMQP field table: message headers and declaration arguments.
public typealias AMQPTable = [String: AMQPFieldValue]

/// One value of an AMQP field table, with the wire type made explicit.
public indirect enum AMQPFieldValue: Sendable, Equatable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case uint8(UInt8)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case float(Float)
    case double(Double)
    case decimal(scale: UInt8, value: UInt32)
    /// A long string that is valid UTF-8.
    case string(String)
    /// A long string that is not UTF-8, or an explicit byte array.
    case bytes([UInt8])
    case array([AMQPFieldValue])
    case table(AMQPTable)
    /// Seconds since the Unix epoch.
    case timestamp(UInt64)
    case void

    /// The value as a string, when it is one.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The value as an integer, for any integer wire type.
    public var intValue: Int64? {
        switch self {
        case let .int8(v): Int64(v)
        case let .uint8(v): Int64(v)
        case let .int16(v): Int64(v)
        case let .uint16(v): Int64(v)
        case let .int32(v): Int64(v)
        case let .uint32(v): Int64(v)
        case let .int64(v): v
        case let .uint64(v): Int64(exactly: v)
        default: nil
        }
    }

    /// The value as an array, when it is one.
    public var arrayValue: [AMQPFieldValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// The value as a table, when it is one.
    public var tableValue: AMQPTable? {
        if case let .table(t) = self { return t }
        return nil
    }
}

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

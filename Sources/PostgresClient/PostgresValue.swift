import Foundation

/// One query parameter, sent as text beside its type so the server never parses it as SQL.
public enum PostgresValue: Sendable, Equatable {
    case null
    /// Sent with an unspecified type, so the server infers it from the context (text, varchar, uuid, json...).
    case text(String)
    case integer(Int)
    case bool(Bool)
    /// Sent as `timestamptz` in UTC with microsecond precision.
    case timestamp(Date)

    public init(_ value: String?) { self = value.map(PostgresValue.text) ?? .null }
    public init(_ value: Int?) { self = value.map(PostgresValue.integer) ?? .null }
    public init(_ value: Bool?) { self = value.map(PostgresValue.bool) ?? .null }
    public init(_ value: Date?) { self = value.map(PostgresValue.timestamp) ?? .null }

    /// The parameter's text form, or nil for SQL NULL.
    public var parameterText: String? {
        switch self {
        case .null: nil
        case let .text(text): text
        case let .integer(value): String(value)
        case let .bool(value): value ? "true" : "false"
        case let .timestamp(date): PostgresTimestamp.format(date)
        }
    }

    /// The type OID sent with the parameter (0 lets the server infer it).
    public var typeOID: UInt32 {
        switch self {
        case .null, .text: 0
        case .integer: PostgresDataType.int8.rawValue
        case .bool: PostgresDataType.bool.rawValue
        case .timestamp: PostgresDataType.timestamptz.rawValue
        }
    }
}

extension PostgresValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// The column types the client decodes, by their built-in OIDs.
public struct PostgresDataType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let bool = Self(rawValue: 16)
    public static let int8 = Self(rawValue: 20)
    public static let int2 = Self(rawValue: 21)
    public static let int4 = Self(rawValue: 23)
    public static let text = Self(rawValue: 25)
    public static let varchar = Self(rawValue: 1043)
    public static let timestamp = Self(rawValue: 1114)
    public static let timestamptz = Self(rawValue: 1184)

    public var description: String {
        switch self {
        case .bool: "bool"
        case .int8: "int8"
        case .int2: "int2"
        case .int4: "int4"
        case .text: "text"
        case .varchar: "varchar"
        case .timestamp: "timestamp"
        case .timestamptz: "timestamptz"
        default: "type \(rawValue)"
        }
    }
}

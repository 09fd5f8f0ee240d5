import Foundation

/// One result cell while it is being decoded: its column and its text bytes (nil for SQL NULL).
/// The bytes are only valid during `PostgresDecodable.decode`.
public struct PostgresCell {
    public let column: PostgresColumn
    public let bytes: UnsafeRawBufferPointer?

    /// The cell's text, or nil for SQL NULL.
    public var text: String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Why a cell could not be decoded; never contains the cell's value (it may be a secret).
public struct PostgresDecodingFailure: Error, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// A Swift type that can be read from a result cell in the text format.
public protocol PostgresDecodable {
    static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Self
}

extension PostgresCell {
    func requireBytes(for type: String) throws(PostgresDecodingFailure) -> UnsafeRawBufferPointer {
        guard let bytes else { throw PostgresDecodingFailure("NULL cannot be decoded as \(type); decode as \(type)? instead") }
        return bytes
    }

    static let integerTypes: Set<PostgresDataType> = [.int2, .int4, .int8]
    static let booleanTypes: Set<PostgresDataType> = [.bool]
    static let timestampTypes: Set<PostgresDataType> = [.timestamptz, .timestamp]

    func require(_ types: Set<PostgresDataType>, for swiftType: String) throws(PostgresDecodingFailure) {
        guard types.contains(column.type) else {
            throw PostgresDecodingFailure("a \(column.type) column cannot be decoded as \(swiftType)")
        }
    }
}

extension String: PostgresDecodable {
    /// Any column's text form.
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> String {
        String(decoding: try cell.requireBytes(for: "String"), as: UTF8.self)
    }
}

extension Int: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Int {
        try cell.require(PostgresCell.integerTypes, for: "Int")
        let bytes = try cell.requireBytes(for: "Int")
        guard let value = Int(String(decoding: bytes, as: UTF8.self)) else {
            throw PostgresDecodingFailure("the text is not a decimal integer")
        }
        return value
    }
}

extension Int64: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Int64 {
        Int64(try Int.decode(cell))
    }
}

extension Int32: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Int32 {
        guard let value = Int32(exactly: try Int.decode(cell)) else { throw PostgresDecodingFailure("the value does not fit Int32") }
        return value
    }
}

extension Int16: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Int16 {
        guard let value = Int16(exactly: try Int.decode(cell)) else { throw PostgresDecodingFailure("the value does not fit Int16") }
        return value
    }
}

extension Bool: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Bool {
        try cell.require(PostgresCell.booleanTypes, for: "Bool")
        let bytes = try cell.requireBytes(for: "Bool")
        switch bytes.first {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw PostgresDecodingFailure("the text is not a boolean")
        }
    }
}

extension Date: PostgresDecodable {
    /// `timestamptz`, or `timestamp` read as UTC.
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Date {
        try cell.require(PostgresCell.timestampTypes, for: "Date")
        let bytes = try cell.requireBytes(for: "Date")
        guard let date = PostgresTimestamp.parse(utf8: bytes) else {
            throw PostgresDecodingFailure("the text is not an ISO timestamp (infinite and BC values are not supported)")
        }
        return date
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// SQL NULL decodes as nil.
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> Wrapped? {
        guard cell.bytes != nil else { return nil }
        return try Wrapped.decode(cell)
    }
}

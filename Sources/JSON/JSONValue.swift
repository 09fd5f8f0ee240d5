/// A JSON value that keeps numbers as their source text and objects in source order,
/// so ids, schemas and upstream results pass through without loss.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number as it appeared in the source (validated against the JSON grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in source order; lookups take the last member of a repeated key.
    case object([JSONMember])

    /// The value of `key` when this is an object, else nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectMembers: [JSONMember]? {
        if case .object(let m) = self { return m }
        return nil
    }

    public var isObject: Bool { objectMembers != nil }

    /// The number as an `Int` when it is an integer that fits.
    public var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    /// A JSON number from an integer.
    public static func integer(_ value: Int) -> JSONValue { .number(String(value)) }

    /// An object from members given in order.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { JSONMember(key: $0.key, value: $0.value) })
    }

    /// Parses JSON text.
    public init(parsing text: String) throws(JSONParseError) {
        self = try JSONParser.parse(Array(text.utf8))
    }

    /// Parses JSON bytes (UTF-8).
    public init(parsing bytes: [UInt8]) throws(JSONParseError) {
        self = try JSONParser.parse(bytes)
    }

    /// The compact JSON text of this value.
    public var jsonText: String { JSONWriter.write(self) }

    /// Equality that ignores object member order and repeated keys (last wins),
    /// and compares numbers by their text.
    public func isSemanticallyEqual(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSemanticallyEqual(to: $1) }
        case (.object(let a), .object(let b)):
            var left: [String: JSONValue] = [:]
            for m in a { left[m.key] = m.value }
            var right: [String: JSONValue] = [:]
            for m in b { right[m.key] = m.value }
            guard left.count == right.count else { return false }
            for (key, value) in left {
                guard let o = right[key], value.isSemanticallyEqual(to: o) else { return false }
            }
            return true
        default: return false
        }
    }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// Literals for building messages in code: an object literal keeps its members in the order written.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { JSONMember(key: $0.0, value: $0.1) })
    }

    /// An object from fields gathered in a dictionary, its members sorted by name (a stable text).
    public init(fields: [String: JSONValue]) {
        self = .object(fields.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: $0.value) })
    }

    /// The members as a dictionary when this is an object (a repeated name: the last one).
    public var objectFields: [String: JSONValue]? {
        guard let members = objectMembers else { return nil }
        var fields: [String: JSONValue] = [:]
        for member in members { fields[member.key] = member.value }
        return fields
    }
}

import Foundation
import JSON

/// Reads the fields of one JSON object strictly, turning every failure into a `MessageDecodingError`
/// that names the field (with `prefix`, for nested objects). A repeated name: the last one counts.
struct StrictFields {
    let fields: [String: JSONValue]
    let kind: MessageKind
    let prefix: String

    init(fields: [String: JSONValue], kind: MessageKind, prefix: String = "") {
        self.fields = fields
        self.kind = kind
        self.prefix = prefix
    }

    func path(_ name: String) -> String { prefix + name }

    func isAbsentOrNull(_ name: String) -> Bool {
        (fields[name] ?? .null) == .null
    }

    /// The field's value; absent and null are both "missing".
    private func value(_ name: String) throws(MessageDecodingError) -> JSONValue {
        guard let value = fields[name], value != .null else { throw .missingField(kind, field: path(name)) }
        return value
    }

    func string(_ name: String) throws(MessageDecodingError) -> String {
        guard case .string(let text) = try value(name) else { throw .wrongType(kind, field: path(name), expected: "a string") }
        return text
    }

    func optionalString(_ name: String) throws(MessageDecodingError) -> String? {
        isAbsentOrNull(name) ? nil : try string(name)
    }

    /// A non-empty identifier without whitespace or control characters, at most 200 characters.
    func identifier(_ name: String) throws(MessageDecodingError) -> String {
        let value = try string(name)
        guard Self.isIdentifier(value) else {
            throw .invalidValue(
                kind, field: path(name), value: Self.excerpt(value),
                expected: "a non-empty id without spaces or control characters, at most 200 characters")
        }
        return value
    }

    /// An endpoint id field (the wire's `serverId`), checked like any identifier.
    func endpointID(_ name: String) throws(MessageDecodingError) -> EndpointID {
        EndpointID(try identifier(name))
    }

    static func isIdentifier(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 200 else { return false }
        // Printable ASCII other than the space is an identifier character: checked without Unicode tables.
        if value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { return true }
        return value.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.properties.generalCategory != .control }
    }

    /// An integer, written whole (`3`, `3.0`, `3e0`), of at least `minimum`.
    func int(_ name: String, atLeast minimum: Int) throws(MessageDecodingError) -> Int {
        guard let value = try value(name).wholeNumber else { throw .wrongType(kind, field: path(name), expected: "an integer") }
        guard value >= minimum else {
            throw .invalidValue(kind, field: path(name), value: String(value), expected: "an integer of at least \(minimum)")
        }
        return value
    }

    func optionalInt(_ name: String, atLeast minimum: Int) throws(MessageDecodingError) -> Int? {
        isAbsentOrNull(name) ? nil : try int(name, atLeast: minimum)
    }

    func date(_ name: String) throws(MessageDecodingError) -> Date {
        let text = try string(name)
        guard let date = Timestamp.parse(text) else {
            throw .invalidValue(kind, field: path(name), value: Self.excerpt(text), expected: "an ISO-8601 UTC date-time")
        }
        return date
    }

    func optionalDate(_ name: String) throws(MessageDecodingError) -> Date? {
        isAbsentOrNull(name) ? nil : try date(name)
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ name: String) throws(MessageDecodingError) -> T where T.RawValue == String {
        let text = try string(name)
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(kind, field: path(name), value: Self.excerpt(text), expected: "one of \(allowed)")
        }
        return value
    }

    /// The fields of a nested object; nil when the field is absent or null.
    func optionalObject(_ name: String) throws(MessageDecodingError) -> StrictFields? {
        if isAbsentOrNull(name) { return nil }
        guard let members = fields[name]?.objectMembers else {
            throw .wrongType(kind, field: path(name), expected: "an object or null")
        }
        var nested: [String: JSONValue] = [:]
        for member in members { nested[member.key] = member.value }
        return StrictFields(fields: nested, kind: kind, prefix: path(name) + ".")
    }

    /// At most 64 characters of a value for an error, control characters escaped.
    static func excerpt(_ value: String) -> String {
        (value.count <= 64 ? value : String(value.prefix(61)) + "...").escapingControlCharacters
    }
}

/// The JSON coding of the wire messages and stored records: strict field reading on the way in,
/// compact text with keys sorted on the way out.
enum WireJSON {
    /// The top-level fields of a body that must be one JSON object.
    static func fields(of data: Data, kind: MessageKind) throws(MessageDecodingError) -> StrictFields {
        do {
            return StrictFields(fields: try FlatJSONObject.parse(data), kind: kind)
        } catch .notAnObject {
            throw .notAnObject(kind)
        } catch {
            throw .notJSON(kind)
        }
    }

    /// The compact text of an object, its keys in byte order (the order a reader diffing two bodies expects).
    static func encode(_ members: [JSONMember]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter.write(.object(members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }), into: &out)
        return out
    }
}

extension JSONValue {
    /// A date as the wire writes it (ISO-8601 UTC with milliseconds), or null.
    static func timestamp(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.format($0)) } ?? .null }
}

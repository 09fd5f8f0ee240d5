import Foundation

/// A coding key for any field name.
struct FieldKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reads the fields of one JSON object strictly, turning every failure into a `MessageDecodingError`
/// that names the field (with `prefix`, for nested objects).
struct StrictFields {
    let container: KeyedDecodingContainer<FieldKey>
    let kind: MessageKind
    let prefix: String

    init(decoder: Decoder, kind: MessageKind, prefix: String = "") throws {
        self.kind = kind
        self.prefix = prefix
        do {
            container = try decoder.container(keyedBy: FieldKey.self)
        } catch {
            if prefix.isEmpty { throw MessageDecodingError.notAnObject(kind) }
            throw MessageDecodingError.wrongType(kind, field: String(prefix.dropLast()), expected: "an object")
        }
    }

    private init(container: KeyedDecodingContainer<FieldKey>, kind: MessageKind, prefix: String) {
        self.container = container
        self.kind = kind
        self.prefix = prefix
    }

    func path(_ name: String) -> String { prefix + name }

    func isAbsentOrNull(_ name: String) -> Bool {
        let key = FieldKey(name)
        guard container.contains(key) else { return true }
        return (try? container.decodeNil(forKey: key)) ?? false
    }

    private func decode<T: Decodable>(_ type: T.Type, _ name: String, expected: String) throws -> T {
        let key = FieldKey(name)
        guard container.contains(key), !((try? container.decodeNil(forKey: key)) ?? false) else {
            throw MessageDecodingError.missingField(kind, field: path(name))
        }
        do {
            return try container.decode(type, forKey: key)
        } catch {
            throw MessageDecodingError.wrongType(kind, field: path(name), expected: expected)
        }
    }

    func string(_ name: String) throws -> String {
        try decode(String.self, name, expected: "a string")
    }

    func optionalString(_ name: String) throws -> String? {
        isAbsentOrNull(name) ? nil : try string(name)
    }

    /// A non-empty identifier without whitespace or control characters, at most 200 characters.
    func identifier(_ name: String) throws -> String {
        let value = try string(name)
        guard Self.isIdentifier(value) else {
            throw MessageDecodingError.invalidValue(
                kind, field: path(name), value: Self.excerpt(value),
                expected: "a non-empty id without spaces or control characters, at most 200 characters")
        }
        return value
    }

    /// An endpoint id field (the wire's `serverId`), checked like any identifier.
    func endpointID(_ name: String) throws -> EndpointID {
        EndpointID(try identifier(name))
    }

    static func isIdentifier(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 200 else { return false }
        return value.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.properties.generalCategory != .control }
    }

    func int(_ name: String, atLeast minimum: Int) throws -> Int {
        let value = try decode(Int.self, name, expected: "an integer")
        guard value >= minimum else {
            throw MessageDecodingError.invalidValue(
                kind, field: path(name), value: String(value), expected: "an integer of at least \(minimum)")
        }
        return value
    }

    func date(_ name: String) throws -> Date {
        let text = try string(name)
        guard let date = Timestamp.parse(text) else {
            throw MessageDecodingError.invalidValue(
                kind, field: path(name), value: Self.excerpt(text), expected: "an ISO-8601 UTC date-time")
        }
        return date
    }

    func optionalDate(_ name: String) throws -> Date? {
        isAbsentOrNull(name) ? nil : try date(name)
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ name: String) throws -> T where T.RawValue == String {
        let text = try string(name)
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw MessageDecodingError.invalidValue(kind, field: path(name), value: Self.excerpt(text), expected: "one of \(allowed)")
        }
        return value
    }

    /// The fields of a nested object; nil when the field is absent or null.
    func optionalObject(_ name: String) throws -> StrictFields? {
        if isAbsentOrNull(name) { return nil }
        do {
            let nested = try container.nestedContainer(keyedBy: FieldKey.self, forKey: FieldKey(name))
            return StrictFields(container: nested, kind: kind, prefix: path(name) + ".")
        } catch {
            throw MessageDecodingError.wrongType(kind, field: path(name), expected: "an object or null")
        }
    }

    /// At most 64 characters of a value for an error, control characters escaped.
    static func excerpt(_ value: String) -> String {
        (value.count <= 64 ? value : String(value.prefix(61)) + "...").escapingControlCharacters
    }
}

/// Shared JSON coding for the wire messages.
enum WireJSON {
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, kind: MessageKind) throws(MessageDecodingError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as MessageDecodingError {
            throw error
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw .notAnObject(kind)
        } catch {
            throw .notJSON(kind)
        }
    }

    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            preconditionFailure("encoding a wire message cannot fail: \(error)")
        }
    }
}

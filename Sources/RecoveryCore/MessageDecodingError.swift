/// Which wire message a decoding error is about.
public enum MessageKind: String, Sendable, Equatable {
    case job = "recovery job"
    case result = "job result"
    case control = "control message"
    case parkedEndpoint = "parked endpoint"
    case workerRecord = "worker record"
    case connectionState = "connection state"
}

/// Why a RabbitMQ message (or one of our Redis values) could not be decoded. Each case names the field,
/// so a worker can dead-letter the message with reason `malformed` and an operator can see why.
/// Values quoted in the description are truncated and never come from secret-bearing fields.
public enum MessageDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The body is not valid UTF-8 JSON.
    case notJSON(MessageKind)
    /// The body is JSON but not an object.
    case notAnObject(MessageKind)
    /// A required field is absent (or null where null is not allowed).
    case missingField(MessageKind, field: String)
    /// A field holds a JSON value of the wrong type.
    case wrongType(MessageKind, field: String, expected: String)
    /// A field has the right type but a value outside its domain (an unknown reason, a bad date, an empty id).
    case invalidValue(MessageKind, field: String, value: String, expected: String)

    /// The dead-letter reason a worker records for a message it cannot decode.
    public static let deadLetterReason = "malformed"

    /// The field at fault, when there is one.
    public var field: String? {
        switch self {
        case .notJSON, .notAnObject: return nil
        case .missingField(_, let field), .wrongType(_, let field, _), .invalidValue(_, let field, _, _): return field
        }
    }

    /// One line, whatever the message held.
    public var description: String { text.escapingControlCharacters }

    private var text: String {
        switch self {
        case .notJSON(let kind):
            return "malformed \(kind.rawValue): body is not JSON"
        case .notAnObject(let kind):
            return "malformed \(kind.rawValue): body is not a JSON object"
        case .missingField(let kind, let field):
            return "malformed \(kind.rawValue): missing field '\(field)'"
        case .wrongType(let kind, let field, let expected):
            return "malformed \(kind.rawValue): field '\(field)' must be \(expected)"
        case .invalidValue(let kind, let field, let value, let expected):
            return "malformed \(kind.rawValue): field '\(field)' has value '\(value)', expected \(expected)"
        }
    }
}

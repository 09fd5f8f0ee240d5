import JSON

/// A JSON-RPC request id, opaque: kept as the exact JSON text it arrived as and echoed verbatim.
public struct JSONRPCID: Sendable, Hashable, CustomStringConvertible {
    /// The id's JSON source text, e.g. `42`, `12345678901234567890123`, `"7"`.
    public let rawJSON: String

    /// Wraps JSON text that is already known to be a JSON string or number.
    init(rawJSON: String) {
        self.rawJSON = rawJSON
    }

    /// An integer id.
    public init(_ number: Int) {
        self.rawJSON = String(number)
    }

    /// A string id.
    public init(string: String) {
        self.rawJSON = JSONWriter.quoted(string)
    }

    /// Accepts a JSON string or number as an id; anything else is not an id.
    public init?(value: JSONValue) {
        switch value {
        case .number(let text): self.rawJSON = text
        case .string(let s): self.rawJSON = JSONWriter.quoted(s)
        default: return nil
        }
    }

    /// True when the id is a JSON string.
    public var isString: Bool { rawJSON.utf8.first == UInt8(ascii: "\"") }

    public var description: String { rawJSON }
}

import Foundation
import RecoveryCore

/// One JSON value of an operator command's output.
public indirect enum OperatorValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case array([OperatorValue])
    /// An object whose keys keep their order.
    case object([OperatorField])
    /// JSON another renderer produced (a command's `--json` output embedded as it is).
    case rendered(String)

    /// A string, or null when absent.
    public static func optional(_ text: String?) -> OperatorValue { text.map { .string($0) } ?? .null }
    /// An integer, or null when absent.
    public static func optional(_ number: Int?) -> OperatorValue { number.map { .int($0) } ?? .null }
    /// An ISO-8601 UTC time, or null when absent.
    public static func time(_ date: Date?) -> OperatorValue { date.map { .string(Timestamp.format($0)) } ?? .null }
}

/// One key and value of an `OperatorValue.object`.
public struct OperatorField: Sendable, Equatable {
    public var key: String
    public var value: OperatorValue

    public init(_ key: String, _ value: OperatorValue) {
        self.key = key
        self.value = value
    }
}

/// Writes the operator commands' JSON: an array of objects whose keys keep their order.
public enum OperatorJSON {
    /// `objects` as a JSON array; `pretty` puts one object per line.
    public static func render(_ objects: [[(key: String, value: OperatorValue)]], pretty: Bool = true) -> String {
        guard !objects.isEmpty else { return "[]" }
        let items = objects.map { object in
            "{" + object.map { quoted($0.key) + ":" + value($0.value) }.joined(separator: ",") + "}"
        }
        return pretty ? "[\n  " + items.joined(separator: ",\n  ") + "\n]" : "[" + items.joined(separator: ",") + "]"
    }

    static func value(_ value: OperatorValue) -> String {
        switch value {
        case .string(let text): return quoted(text)
        case .int(let number): return String(number)
        case .double(let number): return number.isFinite ? String(number) : "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(Self.value).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { quoted($0.key) + ":" + Self.value($0.value) }.joined(separator: ",") + "}"
        case .rendered(let json): return json
        }
    }

    /// One value as compact JSON.
    public static func render(_ value: OperatorValue) -> String { Self.value(value) }

    /// A JSON string literal (RFC 8259 escapes; non-ASCII kept as UTF-8).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

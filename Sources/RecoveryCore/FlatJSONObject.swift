import Foundation
import JSON

/// Reads a JSON object into its top-level fields, fast: a hand-written scanner for the common case (one
/// flat object, as every stored state is), with the strict `JSONParser` for anything the scanner declines
/// (a nested value, say). Both give the same `JSONValue`s.
enum FlatJSONObject {
    enum Failure: Error, Equatable {
        case notJSON
        case notAnObject
    }

    /// The object's fields (for a repeated name, the last one wins).
    static func parse(_ data: Data) throws(Failure) -> [String: JSONValue] {
        if let fields = scan(data) { return fields }
        return try parseFully(Array(data))
    }

    /// The object's fields from text: the scanner reads the string's own UTF-8 storage, and only a text
    /// it declines is copied for the full parser.
    static func parse(_ text: String) throws(Failure) -> [String: JSONValue] {
        var text = text
        if let fields = text.withUTF8({ bytes -> [String: JSONValue]? in
            var scanner = Scanner(bytes: bytes)
            return scanner.object()
        }) {
            return fields
        }
        return try parseFully(Array(text.utf8))
    }

    /// The hand-written scanner alone: nil when it declines (invalid JSON, not an object, a nested value).
    static func scan(_ data: Data) -> [String: JSONValue]? {
        data.withUnsafeBytes { raw -> [String: JSONValue]? in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            return scanner.object()
        }
    }

    /// The same through the strict parser (the reference the scanner is tested against).
    static func parseFully(_ bytes: [UInt8]) throws(Failure) -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .notJSON
        }
        guard let members = value.objectMembers else { throw .notAnObject }
        var fields: [String: JSONValue] = [:]
        for member in members { fields[member.key] = member.value }
        return fields
    }

    /// A strict scanner over UTF-8 bytes; nil means "not handled here" (the caller falls back).
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func object() -> [String: JSONValue]? {
            skipWhitespace()
            guard consume(UInt8(ascii: "{")) else { return nil }
            var fields: [String: JSONValue] = [:]
            fields.reserveCapacity(16)
            skipWhitespace()
            if consume(UInt8(ascii: "}")) {
                skipWhitespace()
                return index == bytes.count ? fields : nil
            }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\""), let name = string() else { return nil }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                guard let value = value() else { return nil }
                fields[name] = value
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "}")) { break }
                return nil
            }
            skipWhitespace()
            return index == bytes.count ? fields : nil
        }

        private func peek() -> UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        private mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        private mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] {
                return false
            }
            index += count
            return true
        }

        private mutating func value() -> JSONValue? {
            guard let byte = peek() else { return nil }
            switch byte {
            case UInt8(ascii: "\""): return string().map { .string($0) }
                        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "-"), 0x30...0x39: return number()
            default: return nil
            }
        }

        /// A string starting at the opening quote; nil on a control character, a bad escape or bad UTF-8.
        private mutating func string() -> String? {
            index += 1
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    // ASCII needs no validation (the generic validating initializer costs more than the scan).
                    if !slice.contains(where: { $0 >= 0x80 }) { return String(decoding: slice, as: UTF8.self) }
                    return String(validating: slice, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { return escapedString(from: start) }
                if byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        private mutating func escapedString(from start: Int) -> String? {
            var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(validating: buffer, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escape = peek() else { return nil }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
                    case UInt8(ascii: "b"): buffer.append(0x08)
                    case UInt8(ascii: "f"): buffer.append(0x0C)
                    case UInt8(ascii: "n"): buffer.append(0x0A)
                    case UInt8(ascii: "r"): buffer.append(0x0D)
                    case UInt8(ascii: "t"): buffer.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard literal("\\u"), let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            return nil
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default:
                        return nil
                    }
                default:
                    if byte < 0x20 { return nil }
                    buffer.append(byte)
                    index += 1
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: return nil
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        /// A number by the JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        private mutating func number() -> JSONValue? {
            let start = index
            _ = consume(UInt8(ascii: "-"))
            guard let first = peek(), (0x30...0x39).contains(first) else { return nil }
            index += 1
            if first != 0x30 {
                while let byte = peek(), (0x30...0x39).contains(byte) { index += 1 }
            }
            if consume(UInt8(ascii: ".")) {
                guard digits() else { return nil }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() else { return nil }
            }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
        }

        private mutating func digits() -> Bool {
            let start = index
            while let byte = peek(), (0x30...0x39).contains(byte) { index += 1 }
            return index > start
        }

    }
}

extension JSONValue {
    /// The number as an `Int` when it is whole (`3`, `3.0`, `3e0`) and within ±9e15, as the tolerant
    /// readers take it; nil otherwise.
    var wholeNumber: Int? {
        guard case .number(let text) = self else { return nil }
        if let value = Int(text) { return value }
        guard let value = Double(text), value.isFinite, value.rounded() == value, abs(value) < 9e15 else { return nil }
        return Int(value)
    }
}

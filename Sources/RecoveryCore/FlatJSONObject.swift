import Foundation

/// A top-level JSON value as the tolerant readers need it: scalars kept, nested objects and arrays
/// only noted (their content is not needed).
enum JSONScalar: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    case null
    case nested
}

/// Reads a JSON object into its top-level fields, fast: a hand-written scanner for the common case
/// (one flat object), with Foundation's parser as the fallback for anything the scanner declines.
enum FlatJSONObject {
    enum Failure: Error, Equatable {
        case notJSON
        case notAnObject
    }

    /// The object's fields (for a repeated name, the last one wins).
    static func parse(_ data: Data) throws(Failure) -> [String: JSONScalar] {
        if let fields = scan(data) { return fields }
        return try parseWithFoundation(data)
    }

    /// The object's fields from text: the scanner reads the string's own UTF-8 storage, and only a text
    /// it declines is copied for Foundation's parser.
    static func parse(_ text: String) throws(Failure) -> [String: JSONScalar] {
        var text = text
        if let fields = text.withUTF8({ bytes -> [String: JSONScalar]? in
            var scanner = Scanner(bytes: bytes)
            return scanner.object()
        }) {
            return fields
        }
        return try parseWithFoundation(Data(text.utf8))
    }

    /// The hand-written scanner alone: nil when it declines (invalid JSON, not an object, deep nesting).
    static func scan(_ data: Data) -> [String: JSONScalar]? {
        data.withUnsafeBytes { raw -> [String: JSONScalar]? in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            return scanner.object()
        }
    }

    /// The same result through `JSONSerialization` (the reference the scanner is tested against).
    static func parseWithFoundation(_ data: Data) throws(Failure) -> [String: JSONScalar] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw .notJSON
        }
        guard let dictionary = object as? [String: Any] else { throw .notAnObject }
        var fields: [String: JSONScalar] = [:]
        for (name, value) in dictionary {
            fields[name] = scalar(value)
        }
        return fields
    }

    private static func scalar(_ value: Any) -> JSONScalar {
        if value is NSNull { return .null }
        if let string = value as? String { return .string(string) }
        if type(of: value) == Bool.self, let bool = value as? Bool { return .bool(bool) }
        if let number = value as? NSNumber {
            // Foundation on Linux hands booleans back as NSNumber of C type `char`.
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            if let int = value as? Int, type(of: value) == Int.self { return .integer(int) }
            let double = number.doubleValue
            return double.rounded() == double && abs(double) < 9e15 ? .integer(Int(double)) : .double(double)
        }
        return .nested
    }

    /// A strict scanner over UTF-8 bytes; nil means "not handled here" (the caller falls back).
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func object() -> [String: JSONScalar]? {
            skipWhitespace()
            guard consume(UInt8(ascii: "{")) else { return nil }
            var fields: [String: JSONScalar] = [:]
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

        private mutating func value() -> JSONScalar? {
            guard let byte = peek() else { return nil }
            switch byte {
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "{"), UInt8(ascii: "["): return skipNested() ? .nested : nil
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
        private mutating func number() -> JSONScalar? {
            let start = index
            _ = consume(UInt8(ascii: "-"))
            guard let first = peek(), (0x30...0x39).contains(first) else { return nil }
            index += 1
            if first != 0x30 {
                while let byte = peek(), (0x30...0x39).contains(byte) { index += 1 }
            }
            var integral = true
            if consume(UInt8(ascii: ".")) {
                integral = false
                guard digits() else { return nil }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                integral = false
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() else { return nil }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if integral, let value = Int(text) { return .integer(value) }
            guard let value = Double(text), value.isFinite else { return nil }
            return value.rounded() == value && abs(value) < 9e15 ? .integer(Int(value)) : .double(value)
        }

        private mutating func digits() -> Bool {
            let start = index
            while let byte = peek(), (0x30...0x39).contains(byte) { index += 1 }
            return index > start
        }

        /// Skips a nested object or array (strings inside honoured); its content is not validated further.
        private mutating func skipNested() -> Bool {
            var depth = 0
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    guard depth <= 64 else { return false }
                    index += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    index += 1
                    if depth == 0 { return true }
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                default:
                    index += 1
                }
            }
            return false
        }
    }
}

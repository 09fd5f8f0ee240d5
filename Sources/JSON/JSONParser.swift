/// A strict RFC 8259 parser over UTF-8 bytes that keeps number text and member order.
public enum JSONParser {
    /// Nesting deeper than this is rejected rather than risking the stack.
    public static let maximumDepth = 256

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
            var reader = Reader(bytes: buffer)
            reader.skipWhitespace()
            let value = try reader.parseValue(depth: 0)
            reader.skipWhitespace()
            guard reader.index == buffer.count else { throw reader.error("unexpected text after the value") }
            return value
        }
    }

    /// A top-level member with the byte range of its value's source text.
    public struct SpannedMember: Sendable {
        public var key: String
        public var value: JSONValue
        public var range: Range<Int>
    }

    /// Parses a text whose top level is an object, keeping each member's value source range;
    /// returns nil members when the top level is valid JSON but not an object.
    public static func parseSpanned(_ bytes: [UInt8]) throws(JSONParseError) -> (members: [SpannedMember]?, value: JSONValue) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> ([SpannedMember]?, JSONValue) in
            var reader = Reader(bytes: buffer)
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: "{") else {
                let value = try reader.parseValue(depth: 0)
                reader.skipWhitespace()
                guard reader.index == buffer.count else { throw reader.error("unexpected text after the value") }
                return (nil, value)
            }
            reader.index += 1
            var spanned: [SpannedMember] = []
            reader.skipWhitespace()
            if reader.peek() == UInt8(ascii: "}") {
                reader.index += 1
            } else {
                while true {
                    reader.skipWhitespace()
                    guard reader.peek() == UInt8(ascii: "\"") else { throw reader.error("expected a member name") }
                    let key = try reader.parseString()
                    reader.skipWhitespace()
                    try reader.expect(UInt8(ascii: ":"))
                    reader.skipWhitespace()
                    let start = reader.index
                    let value = try reader.parseValue(depth: 1)
                    spanned.append(SpannedMember(key: key, value: value, range: start..<reader.index))
                    reader.skipWhitespace()
                    guard let next = reader.next() else { throw reader.error("unterminated object") }
                    if next == UInt8(ascii: "}") { break }
                    guard next == UInt8(ascii: ",") else { throw reader.error("expected ',' or '}' in object", back: 1) }
                }
            }
            reader.skipWhitespace()
            guard reader.index == buffer.count else { throw reader.error("unexpected text after the value") }
            let value = JSONValue.object(spanned.map { JSONMember(key: $0.key, value: $0.value) })
            return (spanned, value)
        }
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func error(_ reason: String, back: Int = 0) -> JSONParseError {
            JSONParseError(reason: reason, offset: max(0, index - back))
        }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func next() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func expect(_ byte: UInt8) throws(JSONParseError) {
            guard next() == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'", back: 1) }
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else { throw error("nesting deeper than \(JSONParser.maximumDepth)") }
            guard let byte = peek() else { throw error("unexpected end of text") }
            switch byte {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONParseError) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw error("unexpected end of text") }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            for i in 0..<count where bytes[index + i] != expected[i] {
                throw error("invalid literal")
            }
            index += count
        }

        mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
            index += 1
            var members: [JSONMember] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try parseString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                members.append(JSONMember(key: key, value: value))
                skipWhitespace()
                guard let next = next() else { throw error("unterminated object") }
                if next == UInt8(ascii: "}") { return .object(members) }
                guard next == UInt8(ascii: ",") else { throw error("expected ',' or '}' in object", back: 1) }
            }
        }

        mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { index += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard let next = next() else { throw error("unterminated array") }
                if next == UInt8(ascii: "]") { return .array(elements) }
                guard next == UInt8(ascii: ",") else { throw error("expected ',' or ']' in array", back: 1) }
            }
        }

        mutating func parseNumber() throws(JSONParseError) -> String {
            let start = index
            if peek() == UInt8(ascii: "-") { index += 1 }
            guard let first = peek(), isDigit(first) else { throw error("invalid number") }
            index += 1
            if first != UInt8(ascii: "0") {
                while let b = peek(), isDigit(b) { index += 1 }
            }
            if peek() == UInt8(ascii: ".") {
                index += 1
                guard let b = peek(), isDigit(b) else { throw error("invalid number fraction") }
                while let b = peek(), isDigit(b) { index += 1 }
            }
            if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
                index += 1
                if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { index += 1 }
                guard let b = peek(), isDigit(b) else { throw error("invalid number exponent") }
                while let b = peek(), isDigit(b) { index += 1 }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

        mutating func parseString() throws(JSONParseError) -> String {
            index += 1
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    return try decodeUTF8(slice, at: start)
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw error("control character in string") }
                index += 1
            }
            guard index < bytes.count else { throw error("unterminated string") }
            var scratch = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while true {
                guard let b = next() else { throw error("unterminated string") }
                switch b {
                case UInt8(ascii: "\""):
                    return try scratch.withUnsafeBufferPointer { (p) throws(JSONParseError) -> String in
                        try decodeUTF8(p, at: start)
                    }
                case UInt8(ascii: "\\"):
                    guard let e = next() else { throw error("unterminated escape") }
                    switch e {
                    case UInt8(ascii: "\""): scratch.append(0x22)
                    case UInt8(ascii: "\\"): scratch.append(0x5C)
                    case UInt8(ascii: "/"): scratch.append(0x2F)
                    case UInt8(ascii: "b"): scratch.append(0x08)
                    case UInt8(ascii: "f"): scratch.append(0x0C)
                    case UInt8(ascii: "n"): scratch.append(0x0A)
                    case UInt8(ascii: "r"): scratch.append(0x0D)
                    case UInt8(ascii: "t"): scratch.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else {
                                throw error("unpaired surrogate in string")
                            }
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in string") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw error("unpaired surrogate in string")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("invalid unicode escape") }
                        scratch.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        throw error("invalid escape", back: 1)
                    }
                default:
                    if b < 0x20 { throw error("control character in string", back: 1) }
                    scratch.append(b)
                }
            }
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let b = next() else { throw error("unterminated unicode escape") }
                let digit: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("invalid unicode escape", back: 1)
                }
                value = value << 4 | digit
            }
            return value
        }

        func decodeUTF8(_ slice: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParseError) -> String {
            guard let s = String(validating: slice, as: UTF8.self) else {
                throw JSONParseError(reason: "string is not valid UTF-8", offset: offset)
            }
            return s
        }
    }
}

/// Incremental UTF-8 validation (Unicode 15, table 3-7): rejects overlong forms, surrogates and code points
/// above U+10FFFF, and carries a partial sequence from one chunk to the next so text split across fragments
/// validates exactly as if it arrived whole.
public struct UTF8Validator: Sendable, Hashable {
    private var remaining = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Whether the bytes so far end on a character boundary.
    public var isAtCharacterBoundary: Bool { remaining == 0 }

    /// Validates the next chunk; false as soon as a byte cannot continue valid UTF-8.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            if remaining == 0 {
                // ASCII fast path, eight bytes at a time.
                while index &+ 8 <= count,
                    bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                {
                    index &+= 8
                }
                if index == count { break }
            }
            if !step(bytes[index]) { return false }
            index &+= 1
        }
        return true
    }

    /// Validates the next chunk; false as soon as a byte cannot continue valid UTF-8.
    public mutating func consume(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { consume($0) }
    }

    /// Whether `bytes` is complete, valid UTF-8.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.consume(bytes) && validator.isAtCharacterBoundary
    }

    private mutating func step(_ byte: UInt8) -> Bool {
        if remaining > 0 {
            guard byte >= lower && byte <= upper else { return false }
            lower = 0x80
            upper = 0xBF
            remaining -= 1
            return true
        }
        switch byte {
        case 0x00...0x7F: return true
        case 0xC2...0xDF: remaining = 1
        case 0xE0: remaining = 2; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: remaining = 2
        case 0xED: remaining = 2; upper = 0x9F
        case 0xF0: remaining = 3; lower = 0x90
        case 0xF1...0xF3: remaining = 3
        case 0xF4: remaining = 3; upper = 0x8F
        default: return false
        }
        return true
    }
}

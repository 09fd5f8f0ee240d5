/// The 4-byte key a client XORs over every payload it sends (RFC 6455 section 5.3).
public struct WebSocketMaskingKey: Sendable, Hashable, CustomStringConvertible {
    /// The four key bytes in wire order, first byte in the high bits.
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) {
        rawValue = UInt32(b0) << 24 | UInt32(b1) << 16 | UInt32(b2) << 8 | UInt32(b3)
    }

    /// A key from exactly four bytes; nil for any other count.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        let b = Array(bytes)
        self.init(b[0], b[1], b[2], b[3])
    }

    /// The key bytes in wire order.
    public var bytes: [UInt8] {
        [UInt8(rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16), UInt8(truncatingIfNeeded: rawValue >> 8),
         UInt8(truncatingIfNeeded: rawValue)]
    }

    /// A fresh key from the system's cryptographic generator, as RFC 6455 requires for every frame.
    public static func random() -> WebSocketMaskingKey {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> WebSocketMaskingKey {
        WebSocketMaskingKey(rawValue: UInt32.random(in: .min ... .max, using: &generator))
    }

    public var description: String {
        bytes.map { String($0, radix: 16) }.joined(separator: " ")
    }
}

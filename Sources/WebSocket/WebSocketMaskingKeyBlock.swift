import Glibc

/// Masking keys for one client connection, drawn from the system's cryptographic generator 64 at a time
/// (one `getentropy` call, its 256-byte maximum, instead of one call for every frame). Each key is handed out once; they are as
/// unpredictable as keys drawn one by one, which is what RFC 6455 section 5.3 asks of them.
public struct WebSocketMaskingKeyBlock: Sendable {
    public static let keysPerDraw = 64
    private var keys: [UInt32] = []
    private var nextIndex = 0

    public init() {}

    /// The next unused key.
    public mutating func next() -> WebSocketMaskingKey {
        if nextIndex == keys.count { refill() }
        defer { nextIndex += 1 }
        return WebSocketMaskingKey(rawValue: keys[nextIndex])
    }

    private mutating func refill() {
        if keys.isEmpty { keys = [UInt32](repeating: 0, count: Self.keysPerDraw) }
        let wanted = keys.count * MemoryLayout<UInt32>.size
        let drawn = keys.withUnsafeMutableBytes { bytes in getentropy(bytes.baseAddress, wanted) }
        if drawn != 0 {
            // Not expected (glibc 2.25+, Linux 3.17+); the standard generator still gives cryptographic keys.
            var generator = SystemRandomNumberGenerator()
            for index in keys.indices { keys[index] = UInt32.random(in: .min ... .max, using: &generator) }
        }
        nextIndex = 0
    }
}

import ClientSupport
import Foundation

/// The `Sec-WebSocket-Key` / `Sec-WebSocket-Accept` pair of the opening handshake (RFC 6455 section 4).
public enum WebSocketAccept {
    /// The GUID RFC 6455 appends to the key before hashing.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The `Sec-WebSocket-Accept` value a server must answer to `key`.
    public static func value(forKey key: String) -> String {
        Data(SHA1.hash(Array((key + guid).utf8))).base64EncodedString()
    }

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64-encoded.
    public static func randomKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return randomKey(using: &generator)
    }

    /// A `Sec-WebSocket-Key` drawn from `generator` (deterministic in tests).
    public static func randomKey(using generator: inout some RandomNumberGenerator) -> String {
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// Whether `key` is a valid `Sec-WebSocket-Key`: base64 of exactly 16 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        guard key.utf8.count == 24, let data = Data(base64Encoded: key) else { return false }
        return data.count == 16
    }
}

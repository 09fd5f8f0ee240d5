/// One WebSocket frame with its payload already unmasked.
public struct WebSocketFrame: Sendable, Hashable {
    /// Whether this is the final fragment of a message.
    public var fin: Bool
    /// RSV1-RSV3 as the low three bits; no extension is negotiated, so a received frame always has zero.
    public var reservedBits: UInt8
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]

    public init(fin: Bool = true, reservedBits: UInt8 = 0, opcode: WebSocketOpcode, payload: [UInt8] = []) {
        self.fin = fin
        self.reservedBits = reservedBits
        self.opcode = opcode
        self.payload = payload
    }

    /// A final text frame carrying `text` as UTF-8.
    public static func text(_ text: String) -> WebSocketFrame {
        WebSocketFrame(opcode: .text, payload: Array(text.utf8))
    }

    /// A final binary frame.
    public static func binary(_ bytes: [UInt8]) -> WebSocketFrame {
        WebSocketFrame(opcode: .binary, payload: bytes)
    }

    /// A ping frame (payload at most 125 bytes).
    public static func ping(_ payload: [UInt8] = []) -> WebSocketFrame {
        WebSocketFrame(opcode: .ping, payload: payload)
    }

    /// A pong frame echoing a ping's payload.
    public static func pong(_ payload: [UInt8] = []) -> WebSocketFrame {
        WebSocketFrame(opcode: .pong, payload: payload)
    }

    /// A close frame: the code in network order then the UTF-8 reason, or an empty payload when `code` is nil.
    /// The reason is cut at a character boundary so the payload stays within the 125-byte control-frame limit.
    public static func close(code: WebSocketCloseCode?, reason: String = "") -> WebSocketFrame {
        guard let code else { return WebSocketFrame(opcode: .close) }
        var payload: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        payload.append(contentsOf: WebSocketFrame.truncatedUTF8(reason, maxBytes: 123))
        return WebSocketFrame(opcode: .close, payload: payload)
    }

    static func truncatedUTF8(_ text: String, maxBytes: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            if bytes.count + encoded.count > maxBytes { break }
            bytes.append(contentsOf: encoded)
        }
        return bytes
    }
}

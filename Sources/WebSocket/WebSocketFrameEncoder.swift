/// Serialises frames for the wire: clients mask with a fresh random key per frame, servers never mask.
public struct WebSocketFrameEncoder: Sendable {
    public let role: WebSocketRole

    public init(role: WebSocketRole) {
        self.role = role
    }

    /// The wire bytes of `frame`, masked with a fresh random key when this encoder is a client's.
    public func encode(_ frame: WebSocketFrame) -> [UInt8] {
        var output: [UInt8] = []
        encode(frame, into: &output)
        return output
    }

    /// Appends the wire bytes of `frame` to `output`.
    public func encode(_ frame: WebSocketFrame, into output: inout [UInt8]) {
        let key: WebSocketMaskingKey? = role == .client ? .random() : nil
        Self.encode(frame, maskingKey: key, into: &output)
    }

    /// The wire bytes of `frame` with an explicit masking key (nil: unmasked), whatever the role.
    public static func encode(_ frame: WebSocketFrame, maskingKey: WebSocketMaskingKey?) -> [UInt8] {
        var output: [UInt8] = []
        encode(frame, maskingKey: maskingKey, into: &output)
        return output
    }

    /// Appends the wire bytes of `frame` with an explicit masking key (nil: unmasked).
    public static func encode(_ frame: WebSocketFrame, maskingKey: WebSocketMaskingKey?, into output: inout [UInt8]) {
        let length = frame.payload.count
        output.reserveCapacity(output.count + length + 14)
        output.append((frame.fin ? 0x80 : 0) | (frame.reservedBits & 0x7) << 4 | frame.opcode.rawValue)
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        switch length {
        case 0...125:
            output.append(maskBit | UInt8(length))
        case 126...0xFFFF:
            output.append(maskBit | 126)
            output.append(UInt8(length >> 8))
            output.append(UInt8(length & 0xFF))
        default:
            output.append(maskBit | 127)
            let wide = UInt64(length)
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: wide >> UInt64(shift)))
            }
        }
        guard let maskingKey else {
            output.append(contentsOf: frame.payload)
            return
        }
        output.append(contentsOf: maskingKey.bytes)
        let start = output.count
        output.append(contentsOf: frame.payload)
        WebSocketMasking.apply(maskingKey, to: &output, range: start..<output.count)
    }
}

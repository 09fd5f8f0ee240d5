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
        output.reserveCapacity(output.count + length + maxHeaderLength)
        withUnsafeTemporaryAllocation(byteCount: maxHeaderLength, alignment: 1) { header in
            let headerLength = writeHeader(fin: frame.fin, reservedBits: frame.reservedBits, opcode: frame.opcode,
                                           length: length, maskingKey: maskingKey, to: header.baseAddress!)
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: header[..<headerLength]))
        }
        let start = output.count
        output.append(contentsOf: frame.payload)
        if let maskingKey { WebSocketMasking.apply(maskingKey, to: &output, range: start..<output.count) }
    }

    /// The wire bytes of one final frame of `opcode` carrying `payload`, built in a single allocation
    /// (masked with `maskingKey` as it is copied; nil: unmasked).
    public static func encode(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, maskingKey: WebSocketMaskingKey?) -> [UInt8] {
        let length = payload.count
        return [UInt8](unsafeUninitializedCapacity: length + maxHeaderLength) { buffer, initialized in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            let headerLength = writeHeader(fin: true, reservedBits: 0, opcode: opcode, length: length,
                                           maskingKey: maskingKey, to: base)
            let body = UnsafeMutableRawBufferPointer(start: base + headerLength, count: length)
            if length > 0 { body.copyMemory(from: payload) }
            if let maskingKey { WebSocketMasking.apply(maskingKey, to: body) }
            initialized = headerLength + length
        }
    }

    /// The longest frame header: two bytes, a 64-bit length and a masking key.
    static let maxHeaderLength = 14

    /// Writes a frame header for a payload of `length` bytes at `destination`; returns its length.
    private static func writeHeader(
        fin: Bool, reservedBits: UInt8, opcode: WebSocketOpcode, length: Int, maskingKey: WebSocketMaskingKey?,
        to destination: UnsafeMutableRawPointer
    ) -> Int {
        destination.storeBytes(of: (fin ? 0x80 : 0) | (reservedBits & 0x7) << 4 | opcode.rawValue, as: UInt8.self)
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        var written = 2
        switch length {
        case 0...125:
            destination.storeBytes(of: maskBit | UInt8(length), toByteOffset: 1, as: UInt8.self)
        case 126...0xFFFF:
            destination.storeBytes(of: maskBit | 126, toByteOffset: 1, as: UInt8.self)
            destination.storeBytes(of: UInt16(length).bigEndian, toByteOffset: 2, as: UInt16.self)
            written = 4
        default:
            destination.storeBytes(of: maskBit | 127, toByteOffset: 1, as: UInt8.self)
            destination.storeBytes(of: UInt64(length).bigEndian, toByteOffset: 2, as: UInt64.self)
            written = 10
        }
        if let maskingKey {
            destination.storeBytes(of: maskingKey.rawValue.bigEndian, toByteOffset: written, as: UInt32.self)
            written += 4
        }
        return written
    }
}

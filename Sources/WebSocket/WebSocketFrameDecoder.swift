/// Incremental frame decoder: append bytes as they arrive, then take complete frames out.
///
/// Every frame-level rule of RFC 6455 is checked as soon as the header bytes are in, before any payload is
/// buffered: reserved bits and opcodes, masking by role, control-frame length and fragmentation, the 64-bit
/// length's top bit and the frame size limit. After an error the decoder must not be used again.
public struct WebSocketFrameDecoder: Sendable {
    /// The role of the side that receives: a client expects unmasked frames, a server masked ones.
    public let role: WebSocketRole
    /// The largest payload a single frame may declare.
    public let maxFramePayloadSize: Int

    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init(role: WebSocketRole, maxFramePayloadSize: Int = 1 << 20) {
        self.role = role
        self.maxFramePayloadSize = maxFramePayloadSize
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Buffers received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// Buffers received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, nil when more bytes are needed.
    public mutating func nextFrame() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let available = buffer.count - readIndex
        guard available >= 2 else { return nil }
        let first = buffer[readIndex]
        let second = buffer[readIndex + 1]

        let reservedBits = (first >> 4) & 0x7
        if reservedBits != 0 { throw .reservedBitsSet(reservedBits) }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .reservedOpcode(first & 0x0F) }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        switch (role, masked) {
        case (.client, true): throw .maskedFrameFromServer
        case (.server, false): throw .unmaskedFrameFromClient
        default: break
        }
        if opcode.isControl && !fin { throw .fragmentedControlFrame(opcode: opcode) }

        let shortLength = second & 0x7F
        var headerLength = 2
        let length: UInt64
        switch shortLength {
        case 126:
            headerLength += 2
            guard available >= headerLength else { return nil }
            length = UInt64(buffer[readIndex + 2]) << 8 | UInt64(buffer[readIndex + 3])
        case 127:
            headerLength += 8
            guard available >= headerLength else { return nil }
            var wide: UInt64 = 0
            for index in 0..<8 { wide = wide << 8 | UInt64(buffer[readIndex + 2 + index]) }
            if wide & (1 << 63) != 0 { throw .payloadLengthTopBitSet }
            length = wide
        default:
            length = UInt64(shortLength)
        }
        if opcode.isControl && length > 125 { throw .controlFrameTooLong(opcode: opcode, length: length) }
        if length > UInt64(maxFramePayloadSize) { throw .frameTooLarge(length: length, limit: maxFramePayloadSize) }

        var maskingKey: WebSocketMaskingKey?
        if masked {
            guard available >= headerLength + 4 else { return nil }
            let at = readIndex + headerLength
            maskingKey = WebSocketMaskingKey(buffer[at], buffer[at + 1], buffer[at + 2], buffer[at + 3])
            headerLength += 4
        }
        let payloadLength = Int(length)
        guard available - headerLength >= payloadLength else { return nil }

        let payloadStart = readIndex + headerLength
        var payload = Array(buffer[payloadStart..<(payloadStart + payloadLength)])
        if let maskingKey { WebSocketMasking.apply(maskingKey, to: &payload) }
        readIndex = payloadStart + payloadLength
        compact()
        return WebSocketFrame(fin: fin, reservedBits: 0, opcode: opcode, payload: payload)
    }

    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            readIndex = 0
        } else if readIndex >= 1 << 16 && readIndex * 2 >= buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}

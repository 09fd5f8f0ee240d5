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
        let (start, role, limit) = (readIndex, role, maxFramePayloadSize)
        let read = buffer.withUnsafeBytes { whole in
            Result { () throws(WebSocketProtocolError) in
                try Self.readHead(UnsafeRawBufferPointer(rebasing: whole[start...]), role: role, maxFramePayloadSize: limit)
            }
        }
        guard let head = try read.get() else { return nil }
        let payloadStart = readIndex + head.headerLength
        var payload = Array(buffer[payloadStart..<(payloadStart + head.payloadLength)])
        if let maskingKey = head.maskingKey { WebSocketMasking.apply(maskingKey, to: &payload) }
        readIndex = payloadStart + head.payloadLength
        compact()
        return WebSocketFrame(fin: head.fin, reservedBits: 0, opcode: head.opcode, payload: payload)
    }

    /// Takes `bytes` as they arrive and hands `body` each complete frame in turn, its payload unmasked and
    /// valid only during the call; an incomplete frame at the end is kept for the next call. While nothing
    /// is buffered, frames are read where they lie in `bytes` (a masked payload is unmasked there, so the
    /// caller's bytes change): the copy of every byte that `append` and `nextFrame` make is left out.
    /// `body` returns false to stop; the bytes after that frame are dropped.
    mutating func decode(
        _ bytes: UnsafeMutableRawBufferPointer, _ body: (WebSocketFrameView) -> Bool
    ) throws(WebSocketProtocolError) {
        guard bufferedByteCount == 0 else {
            append(UnsafeRawBufferPointer(bytes))
            try decodeBuffered(body)
            return
        }
        let consumed = try Self.decodeFrames(in: bytes, role: role, maxFramePayloadSize: maxFramePayloadSize, body)
        if consumed < bytes.count { append(UnsafeRawBufferPointer(rebasing: bytes[consumed...])) }
    }

    /// `decode` over what `append` buffered.
    mutating func decodeBuffered(_ body: (WebSocketFrameView) -> Bool) throws(WebSocketProtocolError) {
        // The buffer is moved out for the pass, so that it is changed in place rather than copied on write.
        var bytes = buffer
        buffer = []
        let start = readIndex
        defer {
            buffer = bytes
            compact()
        }
        let (role, limit) = (role, maxFramePayloadSize)
        let pass = bytes.withUnsafeMutableBytes { whole in
            Result { () throws(WebSocketProtocolError) in
                try Self.decodeFrames(in: UnsafeMutableRawBufferPointer(rebasing: whole[start...]), role: role,
                                      maxFramePayloadSize: limit, body)
            }
        }
        readIndex = start + (try pass.get())
    }

    /// Hands `body` the complete frames at the start of `bytes`, unmasking each payload in place; returns
    /// how many bytes were taken (all of them once `body` stops).
    private static func decodeFrames(
        in bytes: UnsafeMutableRawBufferPointer, role: WebSocketRole, maxFramePayloadSize: Int,
        _ body: (WebSocketFrameView) -> Bool
    ) throws(WebSocketProtocolError) -> Int {
        var offset = 0
        while let head = try readHead(UnsafeRawBufferPointer(rebasing: bytes[offset...]), role: role,
                                      maxFramePayloadSize: maxFramePayloadSize) {
            let payload = UnsafeMutableRawBufferPointer(rebasing: bytes[(offset + head.headerLength)..<(offset + head.frameLength)])
            if let maskingKey = head.maskingKey { WebSocketMasking.apply(maskingKey, to: payload) }
            offset += head.frameLength
            guard body(WebSocketFrameView(head: head, payload: UnsafeRawBufferPointer(payload))) else { return bytes.count }
        }
        return offset
    }

    /// The header of the frame at the start of `bytes`, nil while it or its payload is incomplete. Every
    /// frame-level rule is checked as soon as the header bytes are in, before the payload.
    private static func readHead(
        _ bytes: UnsafeRawBufferPointer, role: WebSocketRole, maxFramePayloadSize: Int
    ) throws(WebSocketProtocolError) -> FrameHead? {
        let available = bytes.count
        guard available >= 2 else { return nil }
        let first = bytes[0]
        let second = bytes[1]

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
            length = UInt64(bytes[2]) << 8 | UInt64(bytes[3])
        case 127:
            headerLength += 8
            guard available >= headerLength else { return nil }
            var wide: UInt64 = 0
            for index in 0..<8 { wide = wide << 8 | UInt64(bytes[2 + index]) }
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
            maskingKey = WebSocketMaskingKey(bytes[headerLength], bytes[headerLength + 1], bytes[headerLength + 2], bytes[headerLength + 3])
            headerLength += 4
        }
        let payloadLength = Int(length)
        guard available - headerLength >= payloadLength else { return nil }
        return FrameHead(fin: fin, opcode: opcode, maskingKey: maskingKey, headerLength: headerLength, payloadLength: payloadLength)
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

/// A complete frame's header as read from the wire.
struct FrameHead {
    var fin: Bool
    var opcode: WebSocketOpcode
    var maskingKey: WebSocketMaskingKey?
    var headerLength: Int
    var payloadLength: Int
    var frameLength: Int { headerLength + payloadLength }
}

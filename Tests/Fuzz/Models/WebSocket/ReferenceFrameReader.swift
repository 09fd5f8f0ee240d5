/// A plain, slow reading of RFC 6455 section 5.2 over bytes that are all in memory: the oracle the fuzzed
/// decoder's frames and errors are compared with. It checks each rule at the byte where the rule becomes
/// decidable (the same points the incremental decoder promises), so an input that stops mid-frame yields
/// the frames before it and no error.
struct ReferenceFrameReader {
    /// A frame as read, and the offset just past its last byte.
    struct ReadFrame {
        var frame: WebSocketFrame
        var end: Int
    }

    /// Every complete frame at the start of `bytes`, and the violation that stopped the reading, if any.
    static func read(_ bytes: [UInt8], role: WebSocketRole, maxPayload: Int) -> (frames: [ReadFrame], error: WebSocketProtocolError?) {
        var frames: [ReadFrame] = []
        var offset = 0
        while true {
            switch readOne(bytes, at: offset, role: role, maxPayload: maxPayload) {
            case .incomplete:
                return (frames, nil)
            case .violation(let error):
                return (frames, error)
            case .frame(let read):
                frames.append(read)
                offset = read.end
            }
        }
    }

    private enum Outcome {
        case incomplete
        case violation(WebSocketProtocolError)
        case frame(ReadFrame)
    }

    private static func readOne(_ bytes: [UInt8], at start: Int, role: WebSocketRole, maxPayload: Int) -> Outcome {
        let available = bytes.count - start
        guard available >= 2 else { return .incomplete }
        let first = bytes[start], second = bytes[start + 1]
        let rsv = (first & 0b0111_0000) >> 4
        if rsv != 0 { return .violation(.reservedBitsSet(rsv)) }
        let opcodeValue = first & 0x0F
        let opcode: WebSocketOpcode
        switch opcodeValue {
        case 0: opcode = .continuation
        case 1: opcode = .text
        case 2: opcode = .binary
        case 8: opcode = .close
        case 9: opcode = .ping
        case 10: opcode = .pong
        default: return .violation(.reservedOpcode(opcodeValue))
        }
        let fin = first >= 0x80
        let masked = second >= 0x80
        if role == .client && masked { return .violation(.maskedFrameFromServer) }
        if role == .server && !masked { return .violation(.unmaskedFrameFromClient) }
        let isControl = opcodeValue >= 8
        if isControl && !fin { return .violation(.fragmentedControlFrame(opcode: opcode)) }

        var position = start + 2
        var length = UInt64(second & 0x7F)
        if length == 126 || length == 127 {
            let width = length == 126 ? 2 : 8
            guard bytes.count - position >= width else { return .incomplete }
            length = bytes[position..<(position + width)].reduce(0) { $0 * 256 + UInt64($1) }
            position += width
            if width == 8 && length >= 1 << 63 { return .violation(.payloadLengthTopBitSet) }
        }
        if isControl && length > 125 { return .violation(.controlFrameTooLong(opcode: opcode, length: length)) }
        if length > UInt64(maxPayload) { return .violation(.frameTooLarge(length: length, limit: maxPayload)) }

        var key: [UInt8] = []
        if masked {
            guard bytes.count - position >= 4 else { return .incomplete }
            key = Array(bytes[position..<(position + 4)])
            position += 4
        }
        guard bytes.count - position >= Int(length) else { return .incomplete }
        var payload = Array(bytes[position..<(position + Int(length))])
        if masked {
            for index in payload.indices { payload[index] ^= key[index % 4] }
        }
        let frame = WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
        return .frame(ReadFrame(frame: frame, end: position + Int(length)))
    }
}

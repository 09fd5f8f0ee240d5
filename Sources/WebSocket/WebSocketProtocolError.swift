/// A violation of RFC 6455 by the peer; each maps to the close code the connection is failed with.
public enum WebSocketProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// RSV1-RSV3 set without a negotiated extension (the low three bits of the value).
    case reservedBitsSet(UInt8)
    /// Opcode 3-7 or 11-15.
    case reservedOpcode(UInt8)
    /// A client received a masked frame: servers must not mask.
    case maskedFrameFromServer
    /// A server received an unmasked frame: clients must mask.
    case unmaskedFrameFromClient
    /// A close, ping or pong with more than 125 bytes of payload.
    case controlFrameTooLong(opcode: WebSocketOpcode, length: UInt64)
    /// A close, ping or pong without FIN.
    case fragmentedControlFrame(opcode: WebSocketOpcode)
    /// A 64-bit payload length with its most significant bit set.
    case payloadLengthTopBitSet
    /// A frame whose declared payload exceeds the frame size limit.
    case frameTooLarge(length: UInt64, limit: Int)
    /// A (reassembled) message that exceeds the message size limit.
    case messageTooLarge(limit: Int)
    /// A continuation frame with no fragmented message in progress.
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message still awaits its continuation.
    case expectedContinuation(got: WebSocketOpcode)
    /// A text message (or one of its fragments) that is not valid UTF-8.
    case invalidUTF8InText
    /// A close frame with a one-byte payload.
    case closePayloadTooShort
    /// A close frame with a code that may not be sent (e.g. 1005, 1006, 999, 5000).
    case invalidCloseCode(UInt16)
    /// A close frame whose reason is not valid UTF-8.
    case invalidUTF8InCloseReason

    /// The close code to fail the connection with: 1009 for size limits, 1007 for bad UTF-8, 1002 otherwise.
    public var closeCode: WebSocketCloseCode {
        switch self {
        case .frameTooLarge, .messageTooLarge: .messageTooBig
        case .invalidUTF8InText, .invalidUTF8InCloseReason: .invalidPayloadData
        default: .protocolError
        }
    }

    public var description: String {
        switch self {
        case .reservedBitsSet(let bits): "reserved bits set (0x\(String(bits, radix: 16))) without a negotiated extension"
        case .reservedOpcode(let opcode): "reserved opcode 0x\(String(opcode, radix: 16))"
        case .maskedFrameFromServer: "masked frame from the server"
        case .unmaskedFrameFromClient: "unmasked frame from the client"
        case .controlFrameTooLong(let opcode, let length): "\(opcode) frame of \(length) bytes (limit 125)"
        case .fragmentedControlFrame(let opcode): "fragmented \(opcode) frame"
        case .payloadLengthTopBitSet: "64-bit payload length with the most significant bit set"
        case .frameTooLarge(let length, let limit): "frame of \(length) bytes exceeds the limit of \(limit)"
        case .messageTooLarge(let limit): "message exceeds the limit of \(limit) bytes"
        case .unexpectedContinuation: "continuation frame without a fragmented message in progress"
        case .expectedContinuation(let opcode): "\(opcode) frame while a fragmented message awaits its continuation"
        case .invalidUTF8InText: "text message is not valid UTF-8"
        case .closePayloadTooShort: "close frame with a one-byte payload"
        case .invalidCloseCode(let code): "close frame with invalid code \(code)"
        case .invalidUTF8InCloseReason: "close reason is not valid UTF-8"
        }
    }
}

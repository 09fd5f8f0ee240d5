/// Reassembles data frames into messages: fragment order, the message size limit and incremental UTF-8
/// validation of text (a text message fails on its first invalid fragment, not at the end).
public struct WebSocketMessageAssembler: Sendable {
    public let maxMessageSize: Int

    private var inProgress: WebSocketOpcode?
    private var buffer: [UInt8] = []
    private var validator = UTF8Validator()

    public init(maxMessageSize: Int = 1 << 20) {
        self.maxMessageSize = maxMessageSize
    }

    /// Whether a fragmented message awaits its continuation frames.
    public var isAssembling: Bool { inProgress != nil }

    /// Takes a text, binary or continuation frame; returns the message once its final fragment is in.
    public mutating func receive(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketMessage? {
        let kind: WebSocketOpcode
        switch frame.opcode {
        case .text, .binary:
            if inProgress != nil { throw .expectedContinuation(got: frame.opcode) }
            kind = frame.opcode
            buffer.removeAll(keepingCapacity: true)
            validator = UTF8Validator()
        case .continuation:
            guard let inProgress else { throw .unexpectedContinuation }
            kind = inProgress
        case .close, .ping, .pong:
            preconditionFailure("control frames are not part of a message")
        }
        if buffer.count + frame.payload.count > maxMessageSize { throw .messageTooLarge(limit: maxMessageSize) }
        if kind == .text, !validator.consume(frame.payload) { throw .invalidUTF8InText }

        guard frame.fin else {
            inProgress = kind
            buffer.append(contentsOf: frame.payload)
            return nil
        }
        inProgress = nil
        if kind == .text, !validator.isAtCharacterBoundary { throw .invalidUTF8InText }
        let payload: [UInt8]
        if buffer.isEmpty {
            payload = frame.payload
        } else {
            buffer.append(contentsOf: frame.payload)
            payload = buffer
            buffer = []
        }
        return kind == .text ? .text(String(decoding: payload, as: UTF8.self)) : .binary(payload)
    }
}

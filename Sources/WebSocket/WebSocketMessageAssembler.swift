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
        let received = frame.payload.withUnsafeBytes { payload in
            Result { () throws(WebSocketProtocolError) in try receive(fin: frame.fin, opcode: frame.opcode, payload: payload) }
        }
        return try received.get()
    }

    /// Takes a frame whose payload lies in the decoder's memory (valid only during the call).
    mutating func receive(_ frame: WebSocketFrameView) throws(WebSocketProtocolError) -> WebSocketMessage? {
        try receive(fin: frame.fin, opcode: frame.opcode, payload: frame.payload)
    }

    private mutating func receive(
        fin: Bool, opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer
    ) throws(WebSocketProtocolError) -> WebSocketMessage? {
        let kind: WebSocketOpcode
        switch opcode {
        case .text, .binary:
            if inProgress != nil { throw .expectedContinuation(got: opcode) }
            if fin { return try wholeMessage(opcode, payload) }
            kind = opcode
            buffer.removeAll(keepingCapacity: true)
            validator = UTF8Validator()
        case .continuation:
            guard let inProgress else { throw .unexpectedContinuation }
            kind = inProgress
        case .close, .ping, .pong:
            preconditionFailure("control frames are not part of a message")
        }
        if buffer.count + payload.count > maxMessageSize { throw .messageTooLarge(limit: maxMessageSize) }
        if kind == .text, !validator.consume(payload) { throw .invalidUTF8InText }
        buffer.append(contentsOf: payload)
        guard fin else {
            inProgress = kind
            return nil
        }
        inProgress = nil
        if kind == .text, !validator.isAtCharacterBoundary { throw .invalidUTF8InText }
        let whole = buffer
        buffer = []
        return kind == .text ? .text(String(decoding: whole, as: UTF8.self)) : .binary(whole)
    }

    /// A message of one frame: checked and copied once, straight from the frame's payload.
    private func wholeMessage(_ kind: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) throws(WebSocketProtocolError) -> WebSocketMessage {
        if payload.count > maxMessageSize { throw .messageTooLarge(limit: maxMessageSize) }
        guard kind == .text else { return .binary(Array(payload)) }
        guard let text = String(validating: payload.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw .invalidUTF8InText
        }
        return .text(text)
    }
}

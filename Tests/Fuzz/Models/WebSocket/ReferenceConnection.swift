/// What a receiving WebSocket connection must do with each frame (RFC 6455 sections 5.5 and 7), written out
/// plainly: the oracle for `WebSocketConnection` fed hostile bytes. It covers a connection whose only local
/// act is one `close`; pings are answered while open, data is delivered while open, a close is echoed, and a
/// violation fails the connection with its close code.
struct ReferenceConnection {
    /// An action of the connection, with written bytes read back as the frame they carry (a client masks
    /// with random keys, so its bytes differ run to run; the frames do not).
    enum Observed: Hashable, CustomStringConvertible {
        case pong([UInt8])
        /// A close frame went out; nil when it carried no code.
        case closeFrame(UInt16?)
        case deliver(WebSocketMessage)
        case closed(WebSocketCloseInfo)

        var description: String {
            switch self {
            case .pong(let payload): "pong(\(hex(payload)))"
            case .closeFrame(let code): "closeFrame(\(code.map(String.init) ?? "none"))"
            case .deliver(.text(let text)): "deliver(text \(hex(text.utf8)))"
            case .deliver(.binary(let bytes)): "deliver(binary \(hex(bytes)))"
            case .closed(let info): "closed(\(info))"
            }
        }
    }

    /// The code and reason the fuzz target closes with when it closes locally.
    static let localCode = WebSocketCloseCode.normalClosure
    static let localReason = "fuzz"

    private enum State { case open, closing, closed }
    private var state = State.open
    private var assembler: ReferenceMessageAssembler

    init(maxMessageSize: Int) {
        assembler = ReferenceMessageAssembler(maxMessageSize: maxMessageSize)
    }

    var isClosed: Bool { state == .closed }

    mutating func receive(_ frame: WebSocketFrame) -> [Observed] {
        guard state != .closed else { return [] }
        switch frame.opcode {
        case .ping:
            return state == .open ? [.pong(frame.payload)] : []
        case .pong:
            return []
        case .close:
            return receiveClose(frame.payload)
        case .text, .binary, .continuation:
            switch assembler.receive(frame) {
            case .failure(let error): return fail(error)
            case .success(let message?): return state == .open ? [.deliver(message)] : []
            case .success(nil): return []
            }
        }
    }

    /// The decoder found a violation in the bytes.
    mutating func fail(_ error: WebSocketProtocolError) -> [Observed] {
        switch state {
        case .closed:
            return []
        case .open:
            state = .closed
            let info = WebSocketCloseInfo(code: error.closeCode, reason: error.description, initiator: .local,
                                          error: .protocolViolation(error))
            return [.closeFrame(error.closeCode.rawValue), .closed(info)]
        case .closing:
            state = .closed
            let info = WebSocketCloseInfo(code: Self.localCode, reason: Self.localReason, initiator: .local,
                                          error: .protocolViolation(error))
            return [.closed(info)]
        }
    }

    /// This side starts the close handshake.
    mutating func closeLocally() -> [Observed] {
        guard state == .open else { return [] }
        state = .closing
        return [.closeFrame(Self.localCode.rawValue)]
    }

    /// The socket ended.
    mutating func transportEnded() -> [Observed] {
        switch state {
        case .closed:
            return []
        case .open:
            state = .closed
            return [.closed(WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .transport, error: .connectionLost))]
        case .closing:
            state = .closed
            return [.closed(WebSocketCloseInfo(code: Self.localCode, reason: Self.localReason, initiator: .local, error: .connectionLost))]
        }
    }

    private mutating func receiveClose(_ payload: [UInt8]) -> [Observed] {
        if payload.count == 1 { return fail(.closePayloadTooShort) }
        var code: UInt16?
        var reason = ""
        if payload.count >= 2 {
            let value = UInt16(payload[0]) << 8 | UInt16(payload[1])
            // Codes a peer may send: 1000-1003, 1007-1014 and 3000-4999 (1004-1006 and 1015 are reserved or
            // local-only, the rest unassigned).
            guard (1000...1003).contains(value) || (1007...1014).contains(value) || (3000...4999).contains(value) else {
                return fail(.invalidCloseCode(value))
            }
            guard let text = String(validating: payload[2...], as: UTF8.self) else { return fail(.invalidUTF8InCloseReason) }
            code = value
            reason = text
        }
        switch state {
        case .closed:
            return []
        case .open:
            state = .closed
            let info = WebSocketCloseInfo(code: WebSocketCloseCode(code ?? 1005), reason: reason, initiator: .peer)
            return [.closeFrame(code), .closed(info)]
        case .closing:
            state = .closed
            return [.closed(WebSocketCloseInfo(code: Self.localCode, reason: Self.localReason, initiator: .local))]
        }
    }
}

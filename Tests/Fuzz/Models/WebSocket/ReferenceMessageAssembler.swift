/// RFC 6455 section 5.4 fragmentation written out plainly, the oracle for the message assembler: a text or
/// binary frame starts a message, continuations extend it, the size limit applies to the message so far,
/// and text fails at the first fragment that no continuation could make valid UTF-8.
struct ReferenceMessageAssembler {
    let maxMessageSize: Int
    private var kind: WebSocketOpcode?
    private var collected: [UInt8] = []

    init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// The message a data frame completes (nil while fragments are pending), or the violation.
    mutating func receive(_ frame: WebSocketFrame) -> Result<WebSocketMessage?, WebSocketProtocolError> {
        let messageKind: WebSocketOpcode
        switch frame.opcode {
        case .text, .binary:
            if kind != nil { return .failure(.expectedContinuation(got: frame.opcode)) }
            messageKind = frame.opcode
            collected = []
        case .continuation:
            guard let kind else { return .failure(.unexpectedContinuation) }
            messageKind = kind
        default:
            fatalError("the model only takes data frames")
        }
        let sofar = collected + frame.payload
        if sofar.count > maxMessageSize { return .failure(.messageTooLarge(limit: maxMessageSize)) }
        if messageKind == .text && !ReferenceUTF8.isValidPrefix(sofar) { return .failure(.invalidUTF8InText) }
        guard frame.fin else {
            kind = messageKind
            collected = sofar
            return .success(nil)
        }
        kind = nil
        collected = []
        if messageKind == .binary { return .success(.binary(sofar)) }
        guard let text = String(validating: sofar, as: UTF8.self) else { return .failure(.invalidUTF8InText) }
        return .success(.text(text))
    }
}

/// A decoded frame whose unmasked payload lies in memory the decoder lends (the bytes being decoded or its own
/// buffer), valid only during the call that hands it out.
struct WebSocketFrameView {
    var fin: Bool
    var opcode: WebSocketOpcode
    var payload: UnsafeRawBufferPointer

    init(head: FrameHead, payload: UnsafeRawBufferPointer) {
        fin = head.fin
        opcode = head.opcode
        self.payload = payload
    }
}

import WebSocket

/// The far end of a connection under test: encodes frames as the opposite role, decodes what we wrote.
struct TestPeer {
    let role: WebSocketRole

    init(facing connectionRole: WebSocketRole) {
        role = connectionRole == .client ? .server : .client
    }

    /// Wire bytes of frames sent by the peer.
    func bytes(_ frames: WebSocketFrame...) -> [UInt8] {
        let encoder = WebSocketFrameEncoder(role: role)
        return frames.flatMap { encoder.encode($0) }
    }

    /// The frames in every `write` action, decoded as the peer would.
    func frames(in actions: [WebSocketConnection.Action]) throws -> [WebSocketFrame] {
        var decoder = WebSocketFrameDecoder(role: role, maxFramePayloadSize: 1 << 30)
        for case .write(let bytes) in actions { decoder.append(bytes) }
        var frames: [WebSocketFrame] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        precondition(decoder.bufferedByteCount == 0, "a write ended inside a frame")
        return frames
    }
}

func closeFrame(_ code: UInt16, _ reason: String = "") -> WebSocketFrame {
    WebSocketFrame.close(code: WebSocketCloseCode(code), reason: reason)
}

extension [WebSocketConnection.Action] {
    var delivered: [WebSocketMessage] {
        compactMap { if case .deliver(let message) = $0 { message } else { nil } }
    }

    var closeInfo: WebSocketCloseInfo? {
        for case .closed(let info) in self { return info }
        return nil
    }
}

import Transport

/// Opens a Xiaozhi WebSocket session: the worker's `SessionHost`; in the server-free tests, one that
/// holds or fails opens as a test says, in front of a host connected to an in-process peer.
public protocol SessionOpener: Sendable {
    func connect(_ address: String, options: SessionOptions) async throws(SessionError) -> WebSocketSession
}

extension SessionHost: SessionOpener {}

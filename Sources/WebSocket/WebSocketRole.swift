/// Which end of a WebSocket connection this side is: clients mask every frame they send, servers never do.
public enum WebSocketRole: Sendable, Hashable {
    case client
    case server
}

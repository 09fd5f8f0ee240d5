import WebSocket

/// One request as an `HTTPServer` hands it to its handler: the head, the whole body, and who sent it.
public struct HTTPRequest: Sendable {
    /// Method, target and headers. The target may hold a secret (a token in the query): never log it whole.
    public var head: HTTPRequestHead
    /// The body, exactly Content-Length bytes (empty without one).
    public var body: [UInt8]
    /// The client's numeric address ("127.0.0.1", "::1").
    public var peerHost: String

    public init(head: HTTPRequestHead, body: [UInt8], peerHost: String) {
        self.head = head
        self.body = body
        self.peerHost = peerHost
    }
}

/// The client side of the opening handshake: the GET request to send, then the server's answer, parsed as it
/// arrives and validated (101, `Upgrade: websocket`, `Connection: Upgrade`, the matching accept value).
public struct WebSocketClientHandshake: Sendable {
    /// What the response bytes so far amount to.
    public enum Progress: Sendable, Hashable {
        case needMoreBytes
        /// The upgrade succeeded; `remainingBytes` already belong to the WebSocket connection.
        case upgraded(HTTPResponseHead, remainingBytes: [UInt8])
    }

    public let url: WebSocketURL
    /// The `Sec-WebSocket-Key` sent.
    public let key: String
    /// Extra request headers (e.g. `Authorization`), sent after the standard ones.
    public let extraHeaders: HTTPHeaders
    private var parser: HTTPHeadParser

    /// A handshake with a fresh random key (pass `key` only in tests).
    public init(url: WebSocketURL, extraHeaders: HTTPHeaders = HTTPHeaders(), key: String? = nil, maxHeadSize: Int = 16 * 1024) {
        self.url = url
        self.extraHeaders = extraHeaders
        self.key = key ?? WebSocketAccept.randomKey()
        parser = HTTPHeadParser(maxHeadSize: maxHeadSize)
    }

    /// The accept value the server must answer.
    public var expectedAccept: String { WebSocketAccept.value(forKey: key) }

    /// The request bytes: it carries the full target, token included, so never log it.
    public var requestBytes: [UInt8] {
        var text = "GET \(url.requestTarget) HTTP/1.1\r\n"
        text += "Host: \(url.hostHeader)\r\n"
        text += "Upgrade: websocket\r\n"
        text += "Connection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\n"
        text += "Sec-WebSocket-Version: 13\r\n"
        for field in extraHeaders { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Feeds response bytes; throws on a non-101 answer or an invalid upgrade.
    public mutating func receive(_ bytes: some Sequence<UInt8>) throws(WebSocketHandshakeError) -> Progress {
        switch try parser.parseResponse(bytes) {
        case .needMoreBytes:
            return .needMoreBytes
        case .complete(let head, let remaining):
            try validate(head)
            return .upgraded(head, remainingBytes: remaining)
        }
    }

    /// Checks a complete response head against this handshake.
    public func validate(_ head: HTTPResponseHead) throws(WebSocketHandshakeError) {
        guard head.status == 101 else { throw .unexpectedStatus(status: head.status, reason: head.reason) }
        guard head.headers.containsToken("websocket", in: "Upgrade") else { throw .missingUpgradeHeader }
        guard head.headers.containsToken("upgrade", in: "Connection") else { throw .missingConnectionHeader }
        guard head.headers.first("Sec-WebSocket-Accept") == expectedAccept else { throw .invalidAccept }
        if let extensions = head.headers.first("Sec-WebSocket-Extensions"), !extensions.isEmpty {
            throw .unrequestedExtension("extension")
        }
        let offered = extraHeaders.first("Sec-WebSocket-Protocol")
        if let selected = head.headers.first("Sec-WebSocket-Protocol"), !selected.isEmpty {
            let offers = offered?.split(separator: ",").map { $0.trimmingWhitespace() } ?? []
            guard offers.contains(selected) else { throw .unrequestedExtension("subprotocol") }
        }
    }
}

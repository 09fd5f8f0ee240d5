/// The server side of the opening handshake: parses the client's request as it arrives, validates it, and
/// builds the 101 answer or an HTTP error answer.
public struct WebSocketServerHandshake: Sendable {
    /// What the request bytes so far amount to.
    public enum Progress: Sendable, Hashable {
        case needMoreBytes
        /// A complete request; validate it with `validate(_:)`. `remainingBytes` were sent after the head.
        case request(HTTPRequestHead, remainingBytes: [UInt8])
    }

    private var parser: HTTPHeadParser

    public init(maxHeadSize: Int = 16 * 1024) {
        parser = HTTPHeadParser(maxHeadSize: maxHeadSize)
    }

    /// Feeds request bytes.
    public mutating func receive(_ bytes: some Sequence<UInt8>) throws(WebSocketHandshakeError) -> Progress {
        switch try parser.parseRequest(bytes) {
        case .needMoreBytes: return .needMoreBytes
        case .complete(let head, let remaining): return .request(head, remainingBytes: remaining)
        }
    }

    /// Checks that `request` is a WebSocket upgrade (GET, HTTP/1.1, Upgrade, Connection, a 16-byte key,
    /// version 13) and returns its `Sec-WebSocket-Key`. The error's status is the one to answer with.
    public static func validate(_ request: HTTPRequestHead) throws(WebSocketHandshakeError) -> String {
        guard request.method == "GET" else { throw .invalidRequest(status: 405, reason: "method must be GET") }
        guard request.version == "HTTP/1.1" else { throw .invalidRequest(status: 400, reason: "HTTP/1.1 required") }
        guard request.headers.first("Host") != nil else { throw .invalidRequest(status: 400, reason: "missing Host") }
        guard request.headers.containsToken("websocket", in: "Upgrade") else {
            throw .invalidRequest(status: 400, reason: "missing 'Upgrade: websocket'")
        }
        guard request.headers.containsToken("upgrade", in: "Connection") else {
            throw .invalidRequest(status: 400, reason: "missing 'Connection: Upgrade'")
        }
        guard request.headers.first("Sec-WebSocket-Version") == "13" else {
            throw .invalidRequest(status: 426, reason: "Sec-WebSocket-Version must be 13")
        }
        guard let key = request.headers.first("Sec-WebSocket-Key"), WebSocketAccept.isValidKey(key) else {
            throw .invalidRequest(status: 400, reason: "missing or invalid Sec-WebSocket-Key")
        }
        return key
    }

    /// The `101 Switching Protocols` answer for a validated key.
    public static func acceptResponse(forKey key: String, extraHeaders: HTTPHeaders = HTTPHeaders()) -> [UInt8] {
        var text = "HTTP/1.1 101 Switching Protocols\r\n"
        text += "Upgrade: websocket\r\n"
        text += "Connection: Upgrade\r\n"
        text += "Sec-WebSocket-Accept: \(WebSocketAccept.value(forKey: key))\r\n"
        for field in extraHeaders { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// A complete HTTP error answer (`401 Unauthorized`, `503 Service Unavailable`...) that closes the connection.
    public static func errorResponse(status: Int, reason: String? = nil, body: String = "", extraHeaders: HTTPHeaders = HTTPHeaders()) -> [UInt8] {
        let phrase = reason ?? reasonPhrase(status)
        let bodyBytes = Array(body.utf8)
        var text = "HTTP/1.1 \(status) \(phrase)\r\n"
        text += "Connection: close\r\n"
        text += "Content-Type: text/plain; charset=utf-8\r\n"
        text += "Content-Length: \(bodyBytes.count)\r\n"
        if status == 426 { text += "Sec-WebSocket-Version: 13\r\n" }
        for field in extraHeaders { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + bodyBytes
    }

    /// The standard reason phrase of the statuses a WebSocket server answers with.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 101: "Switching Protocols"
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Error"
        }
    }
}

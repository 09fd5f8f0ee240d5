import WebSocket

/// The wire form of the server's answers: status line, the handler's headers, the server's own
/// `Content-Length` and `Connection: close`, blank line, body.
enum HTTPResponseEncoder {
    /// A whole response; `headOnly` for a HEAD request (the length is still the body's).
    static func encode(_ response: HTTPResponse, headOnly: Bool) -> [UInt8] {
        let noBody = HTTPStatus.forbidsBody(response.status)
        var bytes = head(status: response.status, headers: response.headers,
                         contentLength: noBody ? nil : response.body.count)
        if !headOnly && !noBody { bytes += response.body }
        return bytes
    }

    /// The head of a streamed body: no Content-Length, so the body ends when the connection does.
    static func streamHead(status: Int, headers: HTTPHeaders) -> [UInt8] {
        head(status: status, headers: headers, contentLength: nil)
    }

    /// A refusal the server makes itself: `reason` as a plain-text body.
    static func refusal(status: Int, reason: String, headOnly: Bool = false) -> [UInt8] {
        encode(HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", text: reason + "\n"), headOnly: headOnly)
    }

    private static func head(status: Int, headers: HTTPHeaders, contentLength: Int?) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n"
        for field in headers where isAllowed(field) {
            text += "\(field.name): \(field.value)\r\n"
        }
        if let contentLength { text += "Content-Length: \(contentLength)\r\n" }
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8)
    }

    /// Framing headers are the server's own; a field with a line break would split the head (injection).
    private static func isAllowed(_ field: (name: String, value: String)) -> Bool {
        let name = field.name.lowercased()
        guard !name.isEmpty, name != "content-length", name != "connection", name != "transfer-encoding" else { return false }
        let breaks: (UInt8) -> Bool = { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
        return !field.name.utf8.contains(where: { breaks($0) || $0 == UInt8(ascii: ":") || $0 == 0x20 || $0 == 0x09 })
            && !field.value.utf8.contains(where: breaks)
    }
}

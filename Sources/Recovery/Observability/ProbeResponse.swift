/// What a probe route answers. The body goes to whoever asked, so it names no host, user or URL; what an
/// operator needs to find the cause goes in `logDetail`, which the server logs (redacted) and never sends.
public struct ProbeResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Why the answer is not a success, for the process's log only.
    public var logDetail: String?

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8], logDetail: String? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.logDetail = logDetail
    }

    public init(status: Int, text: String, logDetail: String? = nil) {
        self.init(status: status, body: Array(text.utf8), logDetail: logDetail)
    }

    /// The full HTTP/1.1 response, closing the connection after it; a HEAD request gets the head only.
    func serialized(headOnly: Bool = false) -> [UInt8] {
        let reason: String
        switch status {
        case 200: reason = "OK"
        case 400: reason = "Bad Request"
        case 404: reason = "Not Found"
        case 405: reason = "Method Not Allowed"
        case 431: reason = "Request Header Fields Too Large"
        case 503: reason = "Service Unavailable"
        default: reason = "Status"
        }
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return headOnly ? Array(head.utf8) : Array(head.utf8) + body
    }
}

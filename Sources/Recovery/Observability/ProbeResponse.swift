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
}

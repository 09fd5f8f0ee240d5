import WebSocket

/// A whole answer to a request. The server adds `Content-Length` and `Connection: close` itself, in place
/// of any the handler set.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A text body (UTF-8) with its `Content-Type` ("text/plain; charset=utf-8", "application/json").
    public init(status: Int, contentType: String, text: String, headers: HTTPHeaders = HTTPHeaders()) {
        var all = HTTPHeaders([(name: "Content-Type", value: contentType)])
        for field in headers where field.name.lowercased() != "content-type" { all.add(name: field.name, value: field.value) }
        self.init(status: status, headers: all, body: Array(text.utf8))
    }
}

/// What a handler answers: a whole response, or a head followed by a body written as it is produced.
public enum HTTPReply: Sendable {
    case response(HTTPResponse)
    /// The head first (no Content-Length; the body runs until the connection closes), then whatever `produce`
    /// writes, until it returns or the client goes away (server-sent events). When the client goes away or the
    /// server closes, the writer turns closed and `produce`'s task is cancelled, so that a sleep ends early.
    case stream(status: Int, headers: HTTPHeaders, produce: @Sendable (HTTPBodyWriter) async -> Void)
}

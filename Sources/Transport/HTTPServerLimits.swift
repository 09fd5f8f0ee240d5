/// What an `HTTPServer` accepts from a client and how long it waits for each step; past a limit the
/// client gets the status named here (or the connection closes) instead of holding the server's resources.
public struct HTTPServerLimits: Sendable, Equatable {
    /// Open connections past which a new one is closed at once, unread.
    public var maxConnections: Int
    /// The largest request head (request line, headers, blank line); larger is refused with 431.
    public var maxHeadBytes: Int
    /// The largest request body, judged from Content-Length before any of it is read; larger is refused with 413.
    public var maxBodyBytes: Int
    /// From accept until the head and body are in; later, 408 and close.
    public var requestTimeout: Duration
    /// For the handler's answer once the request is in; later, 503 (the handler's task runs on, its answer dropped).
    public var responseTimeout: Duration
    /// To hand a whole response (or a stream's last bytes) to the client; later, the connection closes.
    public var writeTimeout: Duration
    /// Unsent bytes of a stream past which the client is taken as not reading, and the connection closes.
    public var maxStreamBufferedBytes: Int

    public init(maxConnections: Int = 256, maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 64 * 1024,
                requestTimeout: Duration = .seconds(10), responseTimeout: Duration = .seconds(30),
                writeTimeout: Duration = .seconds(10), maxStreamBufferedBytes: Int = 1 << 20) {
        self.maxConnections = maxConnections
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.requestTimeout = requestTimeout
        self.responseTimeout = responseTimeout
        self.writeTimeout = writeTimeout
        self.maxStreamBufferedBytes = maxStreamBufferedBytes
    }
}

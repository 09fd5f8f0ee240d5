/// How an `AMQPConnection` connects and recovers.
public struct AMQPConfiguration: Sendable {
    public var url: AMQPURL
    /// Heartbeat interval negotiated with the broker; 0 disables heartbeats.
    public var heartbeatSeconds: Int
    public var connectTimeout: Duration
    /// Upper bound on any single broker round trip (declare, consume, qos, get, close).
    public var operationTimeout: Duration
    /// How long a publish waits for the broker's confirm before its messages complete as
    /// `PublishOutcome.unconfirmed(.confirmTimedOut)`: a broker under a memory or disk alarm stops reading
    /// publishes, and a caller (a job waiting to ack, a worker handing off on shutdown) must not wait forever.
    public var confirmTimeout: Duration
    public var reconnectBackoff: ReconnectBackoff
    /// Shown by `rabbitmqctl list_connections client_properties` and the management UI.
    public var connectionName: String?
    /// Verify the broker's certificate and host name (amqps only). On unless the URL says `verify_none`.
    public var verifiesPeer: Bool
    /// CA bundle for amqps; defaults to `SSL_CERT_FILE` or the system bundle.
    public var caCertificateFile: String?

    public init(
        url: AMQPURL, connectionName: String? = nil, heartbeatSeconds: Int? = nil,
        connectTimeout: Duration? = nil, operationTimeout: Duration = .seconds(30),
        confirmTimeout: Duration = .seconds(10), reconnectBackoff: ReconnectBackoff = ReconnectBackoff()
    ) {
        self.url = url
        self.connectionName = connectionName
        self.heartbeatSeconds = heartbeatSeconds ?? url.heartbeatSeconds ?? 30
        self.connectTimeout = connectTimeout ?? url.connectionTimeoutMilliseconds.map { .milliseconds($0) } ?? .seconds(10)
        self.operationTimeout = operationTimeout
        self.confirmTimeout = confirmTimeout
        self.reconnectBackoff = reconnectBackoff
        self.verifiesPeer = url.verifiesPeer
        self.caCertificateFile = url.caCertificateFile
    }

    /// Parses `urlString` (e.g. the `AMQP_URL` environment variable) and applies the defaults.
    public init(urlString: String, connectionName: String? = nil, heartbeatSeconds: Int? = nil) throws(AMQPError) {
        self.init(url: try AMQPURL(parsing: urlString), connectionName: connectionName, heartbeatSeconds: heartbeatSeconds)
    }
}

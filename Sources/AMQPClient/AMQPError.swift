/// Everything that can go wrong talking to RabbitMQ. Messages name the broker by its redacted URL,
/// the queue or exchange involved and what the broker said; they never contain a password.
public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL could not be parsed.
    case invalidURL(url: String, reason: String)
    /// The TCP (or TLS) connection could not be opened.
    case connectionFailed(url: String, reason: String)
    /// The broker refused the user's credentials.
    case authenticationFailed(url: String, user: String, reason: String)
    /// The broker refused access to the virtual host.
    case virtualHostRefused(url: String, virtualHost: String, reason: String)
    /// The connection is down (the client is reconnecting) or was lost while the operation ran.
    case connectionLost(url: String, reason: String)
    /// The broker closed a channel in answer to an operation (`replyCode` and `replyText` are its words).
    case channelClosed(operation: String, replyCode: Int, replyText: String)
    /// A declaration conflicts with an existing queue or exchange of the same name (PRECONDITION_FAILED);
    /// `brokerMessage` names the argument that differs.
    case declarationMismatch(kind: String, name: String, brokerMessage: String)
    /// A queue or exchange the operation names does not exist (NOT_FOUND).
    case notFound(kind: String, name: String, brokerMessage: String)
    /// The broker took longer than allowed to answer.
    case timedOut(operation: String)
    /// The broker did not confirm a publish within `AMQPConfiguration.confirmTimeout`; `brokerBlockedReason`
    /// is the broker's reason when it had blocked the connection's publishing (`connection.blocked`).
    case confirmTimedOut(after: Duration, brokerBlockedReason: String?)
    /// A round trip (declare, get, ...) refused at once because the broker blocks the connection: under a
    /// resource alarm it reads nothing from a connection that published, so no answer could come.
    case blockedByBroker(operation: String, reason: String)
    /// The operation was called after `close()`.
    case closed(url: String)
    /// A request the client refuses before sending it (bad argument).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .invalidURL(url, reason): "invalid AMQP URL \(url): \(reason)"
        case let .connectionFailed(url, reason): "cannot connect to \(url): \(reason)"
        case let .authenticationFailed(url, user, reason): "broker \(url) refused login for user '\(user)': \(reason)"
        case let .virtualHostRefused(url, vhost, reason): "broker \(url) refused virtual host '\(vhost)': \(reason)"
        case let .connectionLost(url, reason): "connection to \(url) lost: \(reason)"
        case let .channelClosed(operation, code, text): "broker closed the channel during \(operation): \(code) \(text)"
        case let .declarationMismatch(kind, name, message):
            "\(kind) '\(name)' already exists with different arguments: \(message)"
        case let .notFound(kind, name, message): "\(kind) '\(name)' not found: \(message)"
        case let .timedOut(operation): "broker did not answer \(operation) in time"
        case let .confirmTimedOut(after, reason):
            "broker did not confirm the publish within \(Self.seconds(after))"
                + (reason.map { " (the broker is blocking publishers: \($0))" } ?? "")
        case let .blockedByBroker(operation, reason):
            "broker blocks this connection (\(reason)) and reads nothing from it until the alarm clears: \(operation) not sent"
        case let .closed(url): "AMQP connection to \(url) is closed"
        case let .invalidArgument(reason): "invalid AMQP request: \(reason)"
        }
    }

    /// "10 s", "1.5 s": a duration as an operator reads it in a log line.
    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        return milliseconds == 0 ? "\(whole) s" : "\(Double(whole) + Double(milliseconds) / 1000) s"
    }
}

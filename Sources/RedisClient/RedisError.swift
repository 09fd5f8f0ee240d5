/// Everything that can go wrong talking to Redis. Messages name the server or URL and never contain a
/// password.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `REDIS_URL` could not be parsed (the URL is shown with its password redacted).
    case invalidURL(url: String, reason: String)
    /// The TCP connection could not be established.
    case connectFailed(server: String, reason: String)
    /// The server refused the credentials (`AUTH`) or the database (`SELECT`).
    case authenticationFailed(server: String, message: String)
    /// The connection broke during a call; the next call reconnects.
    case connectionLost(server: String, reason: String)
    /// A command got no reply within the command timeout; the next call reconnects.
    case timeout(server: String, command: String)
    /// The server answered a command with an error reply.
    case commandFailed(server: String, command: String, message: String)
    /// The reply did not have the shape the caller asked for.
    case unexpectedReply(command: String, expected: String, got: String)
    /// The client was closed.
    case closed(server: String)

    public var description: String {
        switch self {
        case let .invalidURL(url, reason):
            "invalid Redis URL '\(url)': \(reason)"
        case let .connectFailed(server, reason):
            "cannot connect to Redis at \(server): \(reason)"
        case let .authenticationFailed(server, message):
            "Redis at \(server) rejected the connection setup: \(message)"
        case let .connectionLost(server, reason):
            "connection to Redis at \(server) lost: \(reason) (the next call reconnects)"
        case let .timeout(server, command):
            "Redis at \(server) did not answer \(command) within the command timeout (the next call reconnects)"
        case let .commandFailed(server, command, message):
            "Redis at \(server) refused \(command): \(message)"
        case let .unexpectedReply(command, expected, got):
            "unexpected Redis reply to \(command): expected \(expected), got \(got)"
        case let .closed(server):
            "the Redis client for \(server) is closed"
        }
    }
}

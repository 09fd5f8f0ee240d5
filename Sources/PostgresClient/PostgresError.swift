/// A failure talking to Postgres: what failed, where, and what the server said (with its SQLSTATE).
/// Messages never contain a password.
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `DATABASE_URL` could not be parsed (`server` then holds the URL with its password redacted).
        case invalidURL
        /// The connection could not be established (refused, unknown host, authentication failed...).
        case connectFailed
        /// The connection broke during a call; the next call reconnects.
        case connectionLost
        /// The server rejected a statement (syntax, constraint, statement timeout...).
        case queryFailed
        /// A result cell could not be decoded as the requested type, or a column does not exist.
        case decodingFailed
        /// The client was closed.
        case closed
    }

    public let kind: Kind
    /// The server as `host:port/db`, or the redacted URL for `invalidURL`.
    public let server: String
    /// The five-character SQLSTATE code when the server sent one (e.g. `57014` for a statement timeout).
    public let sqlState: String?
    /// The server's primary message, or a description of the local failure.
    public let message: String
    /// The server's detail line, when it sent one.
    public let detail: String?

    public init(kind: Kind, server: String, sqlState: String? = nil, message: String, detail: String? = nil) {
        self.kind = kind
        self.server = server
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
    }

    /// True when the statement was cancelled by `statement_timeout` (SQLSTATE 57014).
    public var isStatementTimeout: Bool { sqlState == "57014" }

    public var description: String {
        var text: String
        switch kind {
        case .invalidURL: text = "invalid Postgres URL '\(server)': \(message)"
        case .connectFailed: text = "cannot connect to Postgres at \(server): \(message)"
        case .connectionLost: text = "connection to Postgres at \(server) lost: \(message) (the next call reconnects)"
        case .queryFailed: text = "Postgres at \(server) rejected the statement: \(message)"
        case .decodingFailed: text = "cannot decode a Postgres result from \(server): \(message)"
        case .closed: text = "the Postgres client for \(server) is closed"
        }
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        return text
    }
}

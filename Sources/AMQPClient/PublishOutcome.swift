/// What the broker did with one published message.
public enum PublishOutcome: Sendable, Equatable {
    /// The broker took responsibility for the message (persisted to its queues).
    case confirmed
    /// Mandatory and unroutable: the broker handed it back (`replyText` says why, e.g. NO_ROUTE).
    case returned(replyCode: Int, replyText: String)
    /// The broker refused the message (e.g. a full queue with `reject-publish`).
    case nacked
    /// The connection or channel went away before the broker answered, or no answer came within the
    /// confirm timeout (`AMQPError.confirmTimedOut`); the message may or may not be stored.
    case unconfirmed(AMQPError)

    /// Whether the broker confirmed the message.
    public var isConfirmed: Bool { self == .confirmed }
}

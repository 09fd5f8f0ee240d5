/// An event stream sent a line or an event over the parser's limit; the stream cannot go on.
public struct ServerSentEventLimitError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Limit: String, Sendable, Hashable {
        /// One line (a field and its value, up to its line break).
        case line
        /// One event's data, all its `data:` lines joined.
        case event
    }

    public var limit: Limit
    public var maximumBytes: Int

    public var description: String {
        switch limit {
        case .line: return "sent an event-stream line longer than the line limit of \(maximumBytes) bytes"
        case .event: return "sent an event-stream event larger than the event limit of \(maximumBytes) bytes"
        }
    }
}

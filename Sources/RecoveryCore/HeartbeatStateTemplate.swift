import Foundation

/// A held session's state value with its `LastHeartbeat` left open. A heartbeat changes nothing else in
/// the value, so the state is encoded once, when the session is taken, and each heartbeat only formats
/// its time between the two halves: no encoder and no address redaction on every heartbeat. Pure.
public struct HeartbeatStateTemplate: Sendable, Equatable {
    private enum Form: Equatable {
        /// The encoded value up to and including the opening quote of the time, and from its closing quote.
        case halves(prefix: String, suffix: String)
        /// The state itself, encoded on every heartbeat (when its encoding did not show the field as expected).
        case state(ConnectionState)
    }

    private let form: Form

    /// From the state every heartbeat writes again (its `LastHeartbeat` is replaced on each).
    public init(_ state: ConnectionState) {
        let encoded = state.encoded()
        let key = "\"LastHeartbeat\":\""
        let time = Timestamp.format(state.lastHeartbeat)
        // Inside a JSON string a quote is escaped, so the unescaped key can only be the field itself.
        if let field = encoded.range(of: key + time + "\""), encoded.range(of: key, range: field.upperBound..<encoded.endIndex) == nil {
            let timeStart = encoded.index(field.lowerBound, offsetBy: key.count)
            let timeEnd = encoded.index(timeStart, offsetBy: time.count)
            form = .halves(prefix: String(encoded[..<timeStart]), suffix: String(encoded[timeEnd...]))
        } else {
            form = .state(state)
        }
    }

    /// The state's value with `LastHeartbeat` at `date`: what `ConnectionState.encoded()` gives for it.
    public func value(heartbeatAt date: Date) -> String {
        switch form {
        case let .halves(prefix, suffix):
            return prefix + Timestamp.format(date) + suffix
        case let .state(state):
            var beating = state
            beating.lastHeartbeat = date
            return beating.encoded()
        }
    }
}

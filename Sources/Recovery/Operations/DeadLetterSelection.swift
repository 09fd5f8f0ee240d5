import RecoveryCore

/// Which dead letters an operator command acts on: all of them, or those of some endpoints.
public enum DeadLetterSelection: Sendable, Equatable {
    case all
    case servers(Set<EndpointID>)

    /// The selection that `--all` and `--server ID...` describe; nil when neither (or both) is given.
    public init?(all: Bool, servers: [EndpointID]) {
        switch (all, servers.isEmpty) {
        case (true, true): self = .all
        case (false, false): self = .servers(Set(servers))
        default: return nil
        }
    }

    /// Whether the selection takes `letter` (a letter without an endpoint id only under `.all`).
    public func matches(_ letter: DeadLetter) -> Bool {
        switch self {
        case .all: return true
        case .servers(let ids): return letter.endpointId.map(ids.contains) ?? false
        }
    }
}

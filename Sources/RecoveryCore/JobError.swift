/// Whether a failure is worth retrying.
public enum FailureKind: String, Sendable, Equatable, Hashable, CaseIterable {
    case transient
    case permanent
}

/// `{"kind","message"}`: why a job failed. The message never contains a token or password.
public struct JobError: Sendable, Equatable, Hashable {
    public var kind: FailureKind
    public var message: String

    public init(kind: FailureKind, message: String) {
        self.kind = kind
        self.message = message
    }
}

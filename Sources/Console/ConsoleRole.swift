/// What a signed-in operator may do: an admin retries and purges dead letters, a viewer only reads.
public enum ConsoleRole: String, Sendable, Equatable, Codable {
    case admin, viewer

    public var canChange: Bool { self == .admin }
}

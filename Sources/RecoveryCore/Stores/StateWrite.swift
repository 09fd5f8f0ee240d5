/// An encoded state to write while `token` holds the endpoint's lease.
public struct StateWrite: Sendable, Equatable {
    public let serverId: String
    public let value: String
    public let token: String

    public init(serverId: String, value: String, token: String) {
        self.serverId = serverId
        self.value = value
        self.token = token
    }
}

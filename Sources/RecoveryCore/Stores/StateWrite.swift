/// An encoded state to write while `token` holds the endpoint's lease.
public struct StateWrite: Sendable, Equatable {
    public let endpointId: EndpointID
    public let value: String
    public let token: String

    public init(endpointId: EndpointID, value: String, token: String) {
        self.endpointId = endpointId
        self.value = value
        self.token = token
    }
}

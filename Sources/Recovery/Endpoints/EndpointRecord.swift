import Foundation
import RecoveryCore

/// One row of the endpoints table, as a worker needs it to open a session.
public struct EndpointRecord: Sendable, Equatable {
    public var id: EndpointID
    public var name: String
    /// The full ws/wss address with its token: never logged, never stored elsewhere.
    public var address: String
    public var userId: String
    public var isEnabled: Bool
    /// `"UpdatedAt"`, or `"CreatedAt"` when the row was never updated.
    public var updatedAt: Date?

    public init(id: EndpointID, name: String, address: String, userId: String, isEnabled: Bool, updatedAt: Date?) {
        self.id = id
        self.name = name
        self.address = address
        self.userId = userId
        self.isEnabled = isEnabled
        self.updatedAt = updatedAt
    }
}

/// One row of `scheduler status`: the endpoint's columns that say whether it is up.
public struct EndpointStatusRow: Sendable, Equatable {
    public var id: EndpointID
    public var name: String
    public var isEnabled: Bool
    public var isConnected: Bool
    public var lastConnectedAt: Date?
    public var lastDisconnectedAt: Date?

    public init(id: EndpointID, name: String, isEnabled: Bool, isConnected: Bool, lastConnectedAt: Date?, lastDisconnectedAt: Date?) {
        self.id = id
        self.name = name
        self.isEnabled = isEnabled
        self.isConnected = isConnected
        self.lastConnectedAt = lastConnectedAt
        self.lastDisconnectedAt = lastDisconnectedAt
    }
}

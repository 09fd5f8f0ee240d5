import Foundation
import MCP
import RecoveryCore

/// The original platform's tables as the pool uses them: what is enabled, one endpoint, its tools, and
/// the three columns the pool writes.
public protocol EndpointDirectory: Sendable {
    /// Id, name and row version of every enabled endpoint (one query).
    func enabledEndpoints() async throws -> [EnabledEndpoint]
    /// One endpoint, or nil when the row is gone.
    func endpoint(id: EndpointID) async throws -> EndpointRecord?
    /// Every endpoint's state columns, for `scheduler status`.
    func statusRows() async throws -> [EndpointStatusRow]
    /// The rows the endpoint's tool catalog is built from.
    func catalogRows(endpointId: EndpointID) async throws -> CatalogRows
    /// The endpoints of `ids` that exist (a worker's catalog refresh of every held session).
    func endpoints(ids: [EndpointID]) async throws -> [EndpointRecord]
    /// The catalog rows of many endpoints, one query per table.
    func catalogRows(endpointIds: [EndpointID]) async throws -> CatalogRowSet
    /// `"IsConnected" = true, "LastConnectedAt" = at`, unless a later session came up already.
    func markConnected(id: EndpointID, at: Date) async throws
    /// `"IsConnected" = false, "LastDisconnectedAt" = at` for the session that came up at
    /// `sessionConnectedAt`, unless a later session came up since (another worker holds the endpoint).
    func markDisconnected(id: EndpointID, at: Date, sessionConnectedAt: Date) async throws
    /// Creates the tables when absent.
    func migrate() async throws
}

import Foundation
import MCP
import PostgresClient
import RecoveryCore

/// Batched reads for a worker's catalog refresh: one query per table for many endpoints.
extension PostgresEndpointDirectory {
    public func endpoints(ids: [EndpointID]) async throws -> [EndpointRecord] {
        guard !ids.isEmpty else { return [] }
        return try await client.query(schema.selectEndpoints, [.text(EndpointSchema.textArrayLiteral(ids.map(\.rawValue)))]).map(Self.endpointRecord)
    }

    public func catalogRows(endpointIds: [EndpointID]) async throws -> CatalogRowSet {
        try await Self.catalogRowSet(client: client, schema: schema, endpointIds: endpointIds)
    }
}

extension EndpointSchema {
    /// The endpoints whose ids are in $1 (a text array).
    public var selectEndpoints: String {
        "SELECT \"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\", COALESCE(\"UpdatedAt\", \"CreatedAt\") FROM \(endpoints) WHERE \"Id\" = ANY($1::text[])"
    }

    /// The active bindings of the endpoints whose ids are in $1 (a text array).
    public var selectBindingsOfEndpoints: String {
        "SELECT \"Id\", \"XiaozhiMcpEndpointId\", \"McpServiceConfigId\", \"IsActive\", \"SelectedToolNames\", \"CreatedAt\" FROM \(bindings) WHERE \"XiaozhiMcpEndpointId\" = ANY($1::text[]) AND \"IsActive\" ORDER BY \"CreatedAt\", \"Id\""
    }
}

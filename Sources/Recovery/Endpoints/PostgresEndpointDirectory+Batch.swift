import Foundation
import MCP
import PostgresClient

/// Batched reads for a worker's catalog refresh: one query per table for many endpoints.
extension PostgresEndpointDirectory {
    public func endpoints(ids: [String]) async throws -> [EndpointRecord] {
        guard !ids.isEmpty else { return [] }
        let result = try await client.query(schema.selectEndpoints, [.text(EndpointSchema.textArrayLiteral(ids))])
        var records: [EndpointRecord] = []
        records.reserveCapacity(result.count)
        for row in result {
            records.append(EndpointRecord(
                id: try row.decode(at: 0, as: String.self), name: try row.decode(at: 1, as: String.self),
                address: try row.decode(at: 2, as: String.self), userId: try row.decode(at: 3, as: String.self),
                isEnabled: try row.decode(at: 4, as: Bool.self), updatedAt: try row.decode(at: 5, as: Date?.self)))
        }
        return records
    }

    public func catalogRows(endpointIds: [String]) async throws -> CatalogRowSet {
        guard !endpointIds.isEmpty else { return CatalogRowSet(bindings: [], configs: [], tools: []) }
        let bindings = try await client.query(schema.selectBindingsOfEndpoints, [.text(EndpointSchema.textArrayLiteral(endpointIds))]).map { row in
            ServiceBindingRow(
                id: try row.decode(at: 0, as: String.self), xiaozhiMcpEndpointId: try row.decode(at: 1, as: String.self),
                mcpServiceConfigId: try row.decode(at: 2, as: String.self), isActive: try row.decode(at: 3, as: Bool.self),
                selectedToolNames: try row.decode(at: 4, as: String?.self), createdAt: try row.decode(at: 5, as: Date.self))
        }
        let configIds = Array(Set(bindings.map(\.mcpServiceConfigId))).sorted()
        guard !configIds.isEmpty else { return CatalogRowSet(bindings: bindings, configs: [], tools: []) }
        let idList = PostgresValue.text(EndpointSchema.textArrayLiteral(configIds))
        let configs = try await client.query(schema.selectServiceConfigs, [idList]).map { row in
            ServiceConfigRow(
                id: try row.decode(at: 0, as: String.self), name: try row.decode(at: 1, as: String.self),
                endpoint: try row.decode(at: 2, as: String.self), authenticationType: try row.decode(at: 3, as: String?.self),
                authenticationConfig: try row.decode(at: 4, as: String?.self), protocolName: try row.decode(at: 5, as: String?.self))
        }
        let tools = try await client.query(schema.selectTools, [idList]).map { row in
            ToolRow(
                id: try row.decode(at: 0, as: String.self), name: try row.decode(at: 1, as: String.self),
                mcpServiceConfigId: try row.decode(at: 2, as: String.self), description: try row.decode(at: 3, as: String?.self),
                inputSchema: try row.decode(at: 4, as: String?.self), createdAt: try row.decode(at: 5, as: Date.self))
        }
        return CatalogRowSet(bindings: bindings, configs: configs, tools: tools)
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

import Foundation
import MCP
import PostgresClient
import RecoveryCore

/// `EndpointDirectory` over the original platform's tables in Postgres. Every value is a parameter.
public struct PostgresEndpointDirectory: EndpointDirectory {
    public let client: PostgresClient
    public let schema: EndpointSchema
    /// The row reads, catalog reads and connected marks of concurrent jobs, batched (see `CallBatcher`).
    private let rowReads: CallBatcher<EndpointID, EndpointRecord?>
    private let catalogReads: CallBatcher<EndpointID, CatalogRows>
    private let connectedMarks: CallBatcher<ConnectedMark, Void>

    public init(client: PostgresClient, schema: EndpointSchema) {
        self.client = client
        self.schema = schema
        rowReads = CallBatcher { ids in
            let rows = try await client.query(schema.selectEndpoints, [.text(EndpointSchema.textArrayLiteral(Array(Set(ids.map(\.rawValue)))))])
            var byId: [EndpointID: EndpointRecord] = [:]
            for row in rows {
                let record = try Self.endpointRecord(row)
                byId[record.id] = record
            }
            return ids.map { byId[$0] }
        }
        catalogReads = CallBatcher { ids in
            let rows = try await Self.catalogRowSet(client: client, schema: schema, endpointIds: Array(Set(ids)))
            return ids.map { rows.rows(for: $0) }
        }
        connectedMarks = CallBatcher { marks in
            // One mark per row, the latest: an UPDATE joined to two of a row's marks would apply either.
            var latest: [EndpointID: Date] = [:]
            for mark in marks { latest[mark.id] = max(latest[mark.id] ?? mark.at, mark.at) }
            let ids = Array(latest.keys)
            _ = try await client.execute(schema.markConnected, [
                .text(EndpointSchema.textArrayLiteral(ids.map(\.rawValue))),
                .text(EndpointSchema.textArrayLiteral(ids.map { PostgresTimestamp.format(latest[$0]!) })),
            ])
            return marks.map { _ in () }
        }
    }

    private struct ConnectedMark: Sendable {
        var id: EndpointID
        var at: Date
    }

    public func enabledEndpoints() async throws -> [EnabledEndpoint] {
        let result = try await client.query(schema.selectEnabled)
        var endpoints: [EnabledEndpoint] = []
        endpoints.reserveCapacity(result.count)
        for row in result {
            endpoints.append(EnabledEndpoint(
                id: try row.decode(at: 0, as: EndpointID.self), name: try row.decode(at: 1, as: String.self),
                updatedAt: try row.decode(at: 2, as: Date?.self)))
        }
        return endpoints
    }

    public func endpoint(id: EndpointID) async throws -> EndpointRecord? {
        try await rowReads.call(id)
    }

    public func statusRows() async throws -> [EndpointStatusRow] {
        try await client.query(schema.selectAllEndpoints).map { row in
            EndpointStatusRow(
                id: try row.decode(at: 0, as: EndpointID.self), name: try row.decode(at: 1, as: String.self),
                isEnabled: try row.decode(at: 2, as: Bool.self), isConnected: try row.decode(at: 3, as: Bool.self),
                lastConnectedAt: try row.decode(at: 4, as: Date?.self), lastDisconnectedAt: try row.decode(at: 5, as: Date?.self))
        }
    }

    public func catalogRows(endpointId: EndpointID) async throws -> CatalogRows {
        try await catalogReads.call(endpointId)
    }

    public func markConnected(id: EndpointID, at date: Date) async throws {
        try await connectedMarks.call(ConnectedMark(id: id, at: date))
    }

    public func markDisconnected(id: EndpointID, at date: Date, sessionConnectedAt: Date) async throws {
        _ = try await client.execute(schema.markDisconnected, [.endpointID(id), .timestamp(date), .timestamp(sessionConnectedAt)])
    }

    public func migrate() async throws {
        let statements = schema.createStatements
        try await client.transaction { transaction in
            // "already exists, skipping" notices are the normal case of an idempotent migration.
            _ = try transaction.execute("SET LOCAL client_min_messages = warning")
            for statement in statements { _ = try transaction.execute(statement) }
        }
    }
}

// MARK: rows

extension PostgresEndpointDirectory {
    /// The catalog rows of `endpointIds`: their active bindings, then the service configs and tools those
    /// point at, one query per table.
    static func catalogRowSet(client: PostgresClient, schema: EndpointSchema, endpointIds: [EndpointID]) async throws -> CatalogRowSet {
        guard !endpointIds.isEmpty else { return CatalogRowSet(bindings: [], configs: [], tools: []) }
        let bindings = try await client.query(schema.selectBindingsOfEndpoints, [.text(EndpointSchema.textArrayLiteral(endpointIds.map(\.rawValue)))])
            .map(Self.bindingRow)
        let configIds = Array(Set(bindings.map(\.mcpServiceConfigId))).sorted()
        guard !configIds.isEmpty else { return CatalogRowSet(bindings: bindings, configs: [], tools: []) }
        let idList = PostgresValue.text(EndpointSchema.textArrayLiteral(configIds))
        let configs = try await client.query(schema.selectServiceConfigs, [idList]).map(Self.configRow)
        let tools = try await client.query(schema.selectTools, [idList]).map(Self.toolRow)
        return CatalogRowSet(bindings: bindings, configs: configs, tools: tools)
    }

    /// A row of `selectEndpoints`.
    static func endpointRecord(_ row: PostgresRow) throws -> EndpointRecord {
        EndpointRecord(
            id: try row.decode(at: 0, as: EndpointID.self), name: try row.decode(at: 1, as: String.self),
            address: try row.decode(at: 2, as: String.self), userId: try row.decode(at: 3, as: String.self),
            isEnabled: try row.decode(at: 4, as: Bool.self), updatedAt: try row.decode(at: 5, as: Date?.self))
    }

    /// A row of `selectBindings` / `selectBindingsOfEndpoints`.
    static func bindingRow(_ row: PostgresRow) throws -> ServiceBindingRow {
        ServiceBindingRow(
            id: try row.decode(at: 0, as: String.self), xiaozhiMcpEndpointId: try row.decode(at: 1, as: String.self),
            mcpServiceConfigId: try row.decode(at: 2, as: String.self), isActive: try row.decode(at: 3, as: Bool.self),
            selectedToolNames: try row.decode(at: 4, as: String?.self), createdAt: try row.decode(at: 5, as: Date.self))
    }

    /// A row of `selectServiceConfigs`.
    static func configRow(_ row: PostgresRow) throws -> ServiceConfigRow {
        ServiceConfigRow(
            id: try row.decode(at: 0, as: String.self), name: try row.decode(at: 1, as: String.self),
            endpoint: try row.decode(at: 2, as: String.self), authenticationType: try row.decode(at: 3, as: String?.self),
            authenticationConfig: try row.decode(at: 4, as: String?.self), protocolName: try row.decode(at: 5, as: String?.self),
            userId: try row.decode(at: 6, as: String.self), isPublic: try row.decode(at: 7, as: Bool.self))
    }

    /// A row of `selectTools`.
    static func toolRow(_ row: PostgresRow) throws -> ToolRow {
        ToolRow(
            id: try row.decode(at: 0, as: String.self), name: try row.decode(at: 1, as: String.self),
            mcpServiceConfigId: try row.decode(at: 2, as: String.self), description: try row.decode(at: 3, as: String?.self),
            inputSchema: try row.decode(at: 4, as: String?.self), createdAt: try row.decode(at: 5, as: Date.self))
    }
}

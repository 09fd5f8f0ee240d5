import Foundation
import MCP
import PostgresClient
import RecoveryCore
import Testing
@testable import Recovery

/// The worker's catalog refresh reads: many endpoints' rows at once, and each endpoint's share of them.
@Suite struct CatalogRefreshTests {
    static let day = Date(timeIntervalSince1970: 1_760_000_000)

    static func binding(_ id: String, endpoint: String, config: String, at offset: TimeInterval = 0) -> ServiceBindingRow {
        ServiceBindingRow(id: id, xiaozhiMcpEndpointId: endpoint, mcpServiceConfigId: config, isActive: true, selectedToolNames: "[\"echo\"]", createdAt: day.addingTimeInterval(offset))
    }

    static func config(_ id: String) -> ServiceConfigRow {
        ServiceConfigRow(id: id, name: "service-\(id)", endpoint: "http://127.0.0.1:9/mcp", authenticationType: nil, authenticationConfig: nil, protocolName: "streamable-http", userId: "u", isPublic: false)
    }

    static func tool(_ id: String, _ name: String, config: String) -> ToolRow {
        ToolRow(id: id, name: name, mcpServiceConfigId: config, description: nil, inputSchema: "{\"type\":\"object\"}", createdAt: day)
    }

    @Test func eachEndpointGetsItsBindingsTheirConfigsAndTheirTools() {
        let rows = CatalogRowSet(
            bindings: [
                Self.binding("b1", endpoint: "e1", config: "c2"), Self.binding("b2", endpoint: "e2", config: "c2", at: 1),
                Self.binding("b3", endpoint: "e1", config: "c1", at: 2),
            ],
            configs: [Self.config("c1"), Self.config("c2"), Self.config("c3")],
            tools: [Self.tool("t1", "alpha", config: "c2"), Self.tool("t2", "beta", config: "c1"), Self.tool("t3", "gamma", config: "c3"), Self.tool("t4", "delta", config: "c2")])

        let first = rows.rows(for: "e1")
        #expect(first.bindings.map(\.id) == ["b1", "b3"])
        #expect(first.configs.map(\.id) == ["c1", "c2"])
        #expect(first.tools.map(\.id) == ["t1", "t2", "t4"])

        let second = rows.rows(for: "e2")
        #expect(second.bindings.map(\.id) == ["b2"])
        #expect(second.configs.map(\.id) == ["c2"])
        #expect(second.tools.map(\.name) == ["alpha", "delta"])

        let unbound = rows.rows(for: "e3")
        #expect(unbound.bindings.isEmpty && unbound.configs.isEmpty && unbound.tools.isEmpty)
    }

    @Test func aBindingWhoseConfigIsGoneKeepsItsBindingForTheCatalogToReport() {
        let rows = CatalogRowSet(bindings: [Self.binding("b1", endpoint: "e1", config: "gone")], configs: [], tools: [])
        let share = rows.rows(for: "e1")
        #expect(share.bindings.map(\.id) == ["b1"])
        #expect(share.configs.isEmpty)
        let built = ToolCatalog.build(endpointId: "e1", ownerUserId: "u", bindings: share.bindings, serviceConfigs: share.configs, tools: share.tools)
        #expect(built.catalog.tools.isEmpty)
        #expect(!built.issues.isEmpty)
    }

    @Test func theBatchedReadMatchesTheReadOfEachEndpoint() async throws {
        try await withScratchDirectory("catalog") { schema, postgres, directory in
            for index in 1...3 {
                _ = try await postgres.execute(
                    "INSERT INTO \(schema.endpoints) (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\") VALUES ($1, $2, $3, 'u', $4)",
                    [.text("e\(index)"), .text("endpoint-\(index)"), .text("ws://127.0.0.1:9/mcp/?token=t\(index)"), .bool(index != 3)])
            }
            for config in ["c1", "c2"] {
                _ = try await postgres.execute(
                    "INSERT INTO \(schema.serviceConfigs) (\"Id\", \"Name\", \"Endpoint\", \"UserId\", \"Protocol\") VALUES ($1, $2, 'http://127.0.0.1:9/mcp', 'u', 'streamable-http')",
                    [.text(config), .text("service-\(config)")])
            }
            for (id, endpoint, config, active) in [("b1", "e1", "c1", true), ("b2", "e1", "c2", true), ("b3", "e2", "c2", true), ("b4", "e2", "c1", false)] {
                _ = try await postgres.execute(
                    "INSERT INTO \(schema.bindings) (\"Id\", \"XiaozhiMcpEndpointId\", \"McpServiceConfigId\", \"UserId\", \"IsActive\", \"SelectedToolNames\") VALUES ($1, $2, $3, 'u', $4, '[\"echo\"]')",
                    [.text(id), .text(endpoint), .text(config), .bool(active)])
            }
            for (id, name, config) in [("t1", "echo", "c1"), ("t2", "echo", "c2"), ("t3", "add", "c2")] {
                _ = try await postgres.execute(
                    "INSERT INTO \(schema.tools) (\"Id\", \"Name\", \"McpServiceConfigId\", \"UserId\", \"InputSchema\") VALUES ($1, $2, $3, 'u', '{\"type\":\"object\"}')",
                    [.text(id), .text(name), .text(config)])
            }

            let ids: [EndpointID] = ["e1", "e2", "e3", "absent"]
            let records = try await directory.endpoints(ids: ids)
            #expect(Set(records.map(\.id)) == ["e1", "e2", "e3"])
            for record in records {
                #expect(try await directory.endpoint(id: record.id) == record)
            }
            let batch = try await directory.catalogRows(endpointIds: ids)
            for id in ids {
                let single = try await directory.catalogRows(endpointId: id)
                let share = batch.rows(for: id)
                #expect(share.bindings == single.bindings, "bindings of \(id)")
                #expect(Set(share.configs) == Set(single.configs), "configs of \(id)")
                #expect(share.tools == single.tools, "tools of \(id)")
            }
            #expect(batch.rows(for: "e1").tools.map(\.id) == ["t3", "t1", "t2"])
            // Concurrent jobs' reads go out together (the same endpoint more than once among them); each
            // still gets its own endpoint's rows.
            let concurrent = try await withThrowingTaskGroup(of: (EndpointID, CatalogRows).self) { group in
                for _ in 1...3 {
                    for id in ids { group.addTask { (id, try await directory.catalogRows(endpointId: id)) } }
                }
                return try await group.reduce(into: [(EndpointID, CatalogRows)]()) { $0.append($1) }
            }
            #expect(concurrent.count == 3 * ids.count)
            for (id, rows) in concurrent {
                let share = batch.rows(for: id)
                #expect(rows.bindings == share.bindings && rows.configs == share.configs && rows.tools == share.tools, "rows of \(id)")
            }
            #expect(try await directory.catalogRows(endpointIds: []) == CatalogRowSet(bindings: [], configs: [], tools: []))
        }
    }
}

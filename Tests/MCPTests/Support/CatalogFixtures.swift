import Foundation
@testable import MCP

/// Table rows for catalog tests: one endpoint, services named by id.
enum Fixtures {
    static let endpointId = "ep-1"
    static let owner = "user-1"

    static func date(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(1_700_000_000 + seconds)) }

    static func config(_ id: String, endpoint: String = "http://127.0.0.1:1/mcp", protocolName: String? = "streamable-http",
                       authType: String? = nil, authConfig: String? = nil, userId: String = owner, isPublic: Bool = false) -> ServiceConfigRow {
        ServiceConfigRow(id: id, name: "service \(id)", endpoint: endpoint, authenticationType: authType,
                         authenticationConfig: authConfig, protocolName: protocolName, userId: userId, isPublic: isPublic)
    }

    static func binding(_ id: String, config: String, selected: String?, active: Bool = true, endpoint: String = endpointId,
                        created: Int = 0) -> ServiceBindingRow {
        ServiceBindingRow(id: id, xiaozhiMcpEndpointId: endpoint, mcpServiceConfigId: config, isActive: active,
                          selectedToolNames: selected, createdAt: date(created))
    }

    static func tool(_ name: String, config: String, schema: String? = #"{"type":"object"}"#, id: String? = nil,
                     created: Int = 0) -> ToolRow {
        ToolRow(id: id ?? "\(config)/\(name)", name: name, mcpServiceConfigId: config, description: "does \(name)",
                inputSchema: schema, createdAt: date(created))
    }

    static func catalog(bindings: [ServiceBindingRow], configs: [ServiceConfigRow], tools: [ToolRow]) -> (catalog: ToolCatalog, issues: [CatalogIssue]) {
        ToolCatalog.build(endpointId: endpointId, ownerUserId: owner, bindings: bindings, serviceConfigs: configs, tools: tools)
    }

    /// A catalog of the given tool names, all on one service.
    static func catalog(toolNames: [String]) -> ToolCatalog {
        let names = "[" + toolNames.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        return catalog(bindings: [binding("b", config: "c", selected: names)], configs: [config("c")],
                       tools: toolNames.map { tool($0, config: "c") }).catalog
    }
}

import Foundation
import MCP
import RecoveryCore

/// The rows one endpoint's tool catalog is built from: its active bindings, the configs they name and
/// those configs' tools.
public typealias CatalogRows = (bindings: [ServiceBindingRow], configs: [ServiceConfigRow], tools: [ToolRow])

/// The rows the tool catalogs of many endpoints are built from, as read with one query per table, and
/// each endpoint's share of them.
public struct CatalogRowSet: Sendable, Equatable {
    public let bindings: [ServiceBindingRow]
    public let configs: [ServiceConfigRow]
    public let tools: [ToolRow]
    private let bindingsByEndpoint: [String: [ServiceBindingRow]]
    private let configsById: [String: ServiceConfigRow]
    private let toolsByConfig: [String: [ToolRow]]

    public init(bindings: [ServiceBindingRow], configs: [ServiceConfigRow], tools: [ToolRow]) {
        self.bindings = bindings
        self.configs = configs
        self.tools = tools
        bindingsByEndpoint = Dictionary(grouping: bindings, by: \.xiaozhiMcpEndpointId)
        configsById = Dictionary(configs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        toolsByConfig = Dictionary(grouping: tools, by: \.mcpServiceConfigId)
    }

    public static func == (left: CatalogRowSet, right: CatalogRowSet) -> Bool {
        left.bindings == right.bindings && left.configs == right.configs && left.tools == right.tools
    }

    /// One endpoint's rows, in the order they were read: its bindings, the configs they name (sorted by
    /// id) and those configs' tools (sorted by name and id, as the single-endpoint read returns them).
    public func rows(for endpointId: EndpointID) -> CatalogRows {
        let bindings = bindingsByEndpoint[endpointId.rawValue] ?? []
        let configIds = Set(bindings.map(\.mcpServiceConfigId))
        let configs = configIds.sorted().compactMap { configsById[$0] }
        let tools = configs.flatMap { toolsByConfig[$0.id] ?? [] }.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
        return (bindings, configs, tools)
    }
}

extension EndpointDirectory {
    /// One query per endpoint, for directories without a batched read.
    public func endpoints(ids: [EndpointID]) async throws -> [EndpointRecord] {
        var records: [EndpointRecord] = []
        for id in ids {
            if let record = try await endpoint(id: id) { records.append(record) }
        }
        return records
    }

    /// One read per endpoint, for directories without a batched read.
    public func catalogRows(endpointIds: [EndpointID]) async throws -> CatalogRowSet {
        var bindings: [ServiceBindingRow] = [], configs: [ServiceConfigRow] = [], tools: [ToolRow] = []
        var seenConfigs = Set<String>(), seenTools = Set<String>()
        for id in endpointIds {
            let rows = try await catalogRows(endpointId: id)
            bindings += rows.bindings
            configs += rows.configs.filter { seenConfigs.insert($0.id).inserted }
            tools += rows.tools.filter { seenTools.insert($0.id).inserted }
        }
        return CatalogRowSet(bindings: bindings, configs: configs, tools: tools)
    }
}

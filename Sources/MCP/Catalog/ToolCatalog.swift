import Foundation
import JSON

/// The tools one Xiaozhi endpoint offers: its active bindings' selected tools, one per name,
/// sorted by name so pages are stable.
public struct ToolCatalog: Sendable, Equatable {
    /// The tools in name order.
    public let tools: [CatalogTool]
    private let indexByName: [String: Int]

    public static let empty = ToolCatalog(tools: [])

    /// A catalog of the given tools (sorted by name; the first of a repeated name is kept).
    public init(tools: [CatalogTool]) {
        var seen: Set<String> = []
        let unique = tools.filter { seen.insert($0.name).inserted }
        self.tools = unique.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var index: [String: Int] = [:]
        for (i, tool) in self.tools.enumerated() { index[tool.name] = i }
        self.indexByName = index
    }

    public static func == (lhs: ToolCatalog, rhs: ToolCatalog) -> Bool { lhs.tools == rhs.tools }

    /// The upstream services the tools run on (what a session holds on the bridge: `ToolCallBridge.holdServices`).
    public var services: Set<UpstreamService> { Set(tools.map(\.service)) }

    /// The tool of that name.
    public func tool(named name: String) -> CatalogTool? {
        indexByName[name].map { tools[$0] }
    }

    /// True when both list the same tools to a client (names, descriptions, schemas).
    public func hasSameListing(as other: ToolCatalog) -> Bool {
        tools.map(\.listing) == other.tools.map(\.listing)
    }

    /// One page of the listing: up to `size` tools after the cursor, and the cursor of the next page.
    public func page(after cursor: ToolCatalogCursor?, size: Int) -> (tools: [CatalogTool], next: ToolCatalogCursor?) {
        let start: Int
        if let cursor {
            // The first tool whose name sorts after the cursor's: stable when the catalog changes between pages.
            start = tools.firstIndex { cursor.lastName.utf8.lexicographicallyPrecedes($0.name.utf8) } ?? tools.count
        } else {
            start = 0
        }
        let end = min(tools.count, start + max(1, size))
        let slice = Array(tools[start..<end])
        let next = end < tools.count ? slice.last.map { ToolCatalogCursor(lastName: $0.name) } : nil
        return (slice, next)
    }

    /// Builds the catalog of one endpoint from table rows; what it skipped or decided is in `issues`.
    public static func build(
        endpointId: String,
        ownerUserId: String?,
        bindings: [ServiceBindingRow],
        serviceConfigs: [ServiceConfigRow],
        tools: [ToolRow]
    ) -> (catalog: ToolCatalog, issues: [CatalogIssue]) {
        var issues: [CatalogIssue] = []
        let configsById = Dictionary(serviceConfigs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let toolsByConfig = Dictionary(grouping: tools, by: \.mcpServiceConfigId)
        let active = bindings
            .filter { $0.xiaozhiMcpEndpointId == endpointId && $0.isActive }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }

        var chosen: [String: CatalogTool] = [:]
        for binding in active {
            let selected: [String]
            switch parseSelection(binding.selectedToolNames) {
            case .success(let names): selected = names
            case .failure(let reason):
                issues.append(.malformedSelectedToolNames(bindingId: binding.id, reason: reason.description))
                continue
            }
            if selected.isEmpty { continue }
            guard let config = configsById[binding.mcpServiceConfigId] else {
                issues.append(.missingServiceConfig(bindingId: binding.id, serviceConfigId: binding.mcpServiceConfigId))
                continue
            }
            guard config.isPublic || config.userId == ownerUserId else {
                issues.append(.privateServiceOfAnotherUser(bindingId: binding.id, serviceConfigId: config.id))
                continue
            }
            let service: UpstreamService
            switch upstreamService(config, ownerUserId: ownerUserId) {
            case .success(let s): service = s
            case .failure(let reason):
                issues.append(.unusableServiceConfig(bindingId: binding.id, serviceConfigId: config.id, reason: reason.description))
                continue
            }
            // Within one service, a repeated tool name resolves to its earliest row.
            let rows = (toolsByConfig[config.id] ?? []).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            var rowByName: [String: ToolRow] = [:]
            for row in rows where rowByName[row.name] == nil { rowByName[row.name] = row }
            var seenInBinding: Set<String> = []
            for name in selected where seenInBinding.insert(name).inserted {
                guard let row = rowByName[name] else {
                    issues.append(.selectedToolNotFound(bindingId: binding.id, toolName: name))
                    continue
                }
                let schema: JSONValue
                switch parseSchema(row.inputSchema) {
                case .success(let s): schema = s
                case .failure(let reason):
                    issues.append(.malformedInputSchema(toolId: row.id, toolName: row.name, reason: reason.description))
                    continue
                }
                if let kept = chosen[name] {
                    issues.append(.duplicateToolName(toolName: name, keptBindingId: kept.bindingId, droppedBindingId: binding.id))
                    continue
                }
                chosen[name] = CatalogTool(name: name, description: row.description, inputSchema: schema,
                                           service: service, bindingId: binding.id, toolId: row.id)
            }
        }
        return (ToolCatalog(tools: Array(chosen.values)), issues)
    }

    struct Reason: Error, CustomStringConvertible {
        var description: String
    }

    static func parseSelection(_ text: String?) -> Result<[String], Reason> {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .success([]) }
        let value: JSONValue
        do { value = try JSONValue(parsing: text) } catch { return .failure(Reason(description: "is not JSON (\(error))")) }
        guard case .array(let elements) = value else { return .failure(Reason(description: "is not a JSON array")) }
        var names: [String] = []
        for element in elements {
            guard let name = element.stringValue else { return .failure(Reason(description: "holds a value that is not a string")) }
            names.append(name)
        }
        return .success(names)
    }

    static func parseSchema(_ text: String?) -> Result<JSONValue, Reason> {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            // No stored schema: the tool takes an object of anything.
            return .success(.object(["type": .string("object")]))
        }
        let value: JSONValue
        do { value = try JSONValue(parsing: text) } catch { return .failure(Reason(description: "is not JSON (\(error))")) }
        guard value.isObject else { return .failure(Reason(description: "is not a JSON object")) }
        return .success(value)
    }

    static func upstreamService(_ config: ServiceConfigRow, ownerUserId: String?) -> Result<UpstreamService, Reason> {
        let transport = UpstreamTransport(protocolName: config.protocolName)
        let authentication: UpstreamAuthentication
        switch UpstreamAuthentication.parse(type: config.authenticationType, config: config.authenticationConfig) {
        case .success(let a): authentication = a
        case .failure(let error): return .failure(Reason(description: "has unusable authentication: \(error.reason)"))
        }
        if case .unsupported = transport {
            // Listed anyway: calls answer with a clear error naming the protocol.
        } else {
            guard let url = URL(string: config.endpoint), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host != nil else {
                return .failure(Reason(description: "has an Endpoint that is not an http(s) URL"))
            }
        }
        return .success(UpstreamService(configId: config.id, name: config.name, endpoint: config.endpoint,
                                        transport: transport, authentication: authentication, userId: ownerUserId))
    }
}

/// An opaque `tools/list` cursor: the last name of the previous page.
public struct ToolCatalogCursor: Sendable, Hashable {
    public var lastName: String

    public init(lastName: String) { self.lastName = lastName }

    /// The cursor's wire form (base64 of a versioned text).
    public var token: String { Data("v1:\(lastName)".utf8).base64EncodedString() }

    /// Reads a wire cursor; nil when it is not one of ours.
    public init?(token: String) {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("v1:") else { return nil }
        self.lastName = String(text.dropFirst(3))
    }
}

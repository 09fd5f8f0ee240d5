import JSON

/// A tool as the Xiaozhi session lists it, with the upstream service that runs it.
public struct CatalogTool: Sendable, Hashable {
    public var name: String
    public var description: String?
    /// The stored JSON Schema, whole.
    public var inputSchema: JSONValue
    public var service: UpstreamService
    public var bindingId: String
    public var toolId: String

    public init(name: String, description: String?, inputSchema: JSONValue, service: UpstreamService,
                bindingId: String, toolId: String) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
        self.service = service
        self.bindingId = bindingId
        self.toolId = toolId
    }

    /// The MCP `Tool` object of `tools/list`.
    public var listing: JSONValue {
        var members = [JSONMember(key: "name", value: .string(name))]
        if let description, !description.isEmpty { members.append(JSONMember(key: "description", value: .string(description))) }
        members.append(JSONMember(key: "inputSchema", value: inputSchema))
        return .object(members)
    }
}

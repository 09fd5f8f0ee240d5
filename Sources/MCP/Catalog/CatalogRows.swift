import Foundation

/// A row of `<prefix>mcp_service_bindings`: which service's tools an endpoint offers.
public struct ServiceBindingRow: Sendable, Hashable {
    public var id: String
    public var xiaozhiMcpEndpointId: String
    public var mcpServiceConfigId: String
    public var isActive: Bool
    /// The JSON array of selected tool names as stored (nil or empty means no tools).
    public var selectedToolNames: String?
    public var createdAt: Date

    public init(id: String, xiaozhiMcpEndpointId: String, mcpServiceConfigId: String, isActive: Bool,
                selectedToolNames: String?, createdAt: Date) {
        self.id = id
        self.xiaozhiMcpEndpointId = xiaozhiMcpEndpointId
        self.mcpServiceConfigId = mcpServiceConfigId
        self.isActive = isActive
        self.selectedToolNames = selectedToolNames
        self.createdAt = createdAt
    }
}

/// A row of `<prefix>mcp_service_configs`: an upstream MCP service and how to reach it.
public struct ServiceConfigRow: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The service's URL (or a command for `stdio`).
    public var endpoint: String
    /// `bearer`, `basic`, `apikey`, `oauth2` in any case; nil or empty for none.
    public var authenticationType: String?
    /// The authentication JSON; holds secrets, never logged.
    public var authenticationConfig: String?
    /// `stdio`, `streamable-http`, `http` or `sse`; nil or empty means `streamable-http`.
    public var protocolName: String?
    /// The user who owns the service.
    public var userId: String
    /// Whether endpoints of other users may bind it; a private service serves its owner's endpoints only.
    public var isPublic: Bool

    public init(id: String, name: String, endpoint: String, authenticationType: String?,
                authenticationConfig: String?, protocolName: String?, userId: String, isPublic: Bool) {
        self.userId = userId
        self.isPublic = isPublic
        self.id = id
        self.name = name
        self.endpoint = endpoint
        self.authenticationType = authenticationType
        self.authenticationConfig = authenticationConfig
        self.protocolName = protocolName
    }
}

/// A row of `<prefix>mcp_tools`: a tool a service offers, with its JSON Schema text.
public struct ToolRow: Sendable, Hashable {
    public var id: String
    public var name: String
    public var mcpServiceConfigId: String
    public var description: String?
    public var inputSchema: String?
    public var createdAt: Date

    public init(id: String, name: String, mcpServiceConfigId: String, description: String?,
                inputSchema: String?, createdAt: Date) {
        self.id = id
        self.name = name
        self.mcpServiceConfigId = mcpServiceConfigId
        self.description = description
        self.inputSchema = inputSchema
        self.createdAt = createdAt
    }
}

import JSON

/// A `tools/call` to forward to the upstream service that runs the tool.
public struct ToolCallRequest: Sendable, Hashable {
    public var toolName: String
    /// The call's `arguments` object, when given.
    public var arguments: JSONValue?
    public var service: UpstreamService

    public init(toolName: String, arguments: JSONValue?, service: UpstreamService) {
        self.toolName = toolName
        self.arguments = arguments
        self.service = service
    }
}

/// What came of a forwarded call.
public enum ToolCallOutcome: Sendable, Equatable {
    /// The upstream `CallToolResult`, as the JSON text it sent.
    case result(rawJSON: String)
    /// The upstream answered with a JSON-RPC error; passed on as it is.
    case upstreamError(JSONRPCError)
    /// The bridge could not get an answer.
    case failed(BridgeFailure)
}

/// Forwards `tools/call` to upstream services. Implementations must be safe to call concurrently.
public protocol ToolCallBridge: Sendable {
    /// Forwards one call; never sends it twice. Cancellation of the calling task abandons the call.
    func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome
    /// A session started using these services (its catalog's): their upstream sessions are kept.
    func holdServices(_ services: Set<UpstreamService>)
    /// A session stopped using these services (it ended, or its catalog changed): upstream sessions
    /// no session holds any more are closed. Each call undoes one `holdServices` of the same services.
    func releaseServices(_ services: Set<UpstreamService>)
}

extension ToolCallBridge {
    /// Bridges that keep nothing per service need not track who uses it.
    public func holdServices(_ services: Set<UpstreamService>) {}
    public func releaseServices(_ services: Set<UpstreamService>) {}
}

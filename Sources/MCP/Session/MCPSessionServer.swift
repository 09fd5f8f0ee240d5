import Logging
import Synchronization

/// The MCP server of one Xiaozhi session: text messages in, text messages out.
/// Requests are handled concurrently: a slow tool call never delays `ping` or other calls.
public final class MCPSessionServer: Sendable {
    private struct State {
        var dispatcher: MCPSessionDispatcher
        var inFlight: [JSONRPCID: Task<Void, Never>] = [:]
        var closed = false
    }

    private let state: Mutex<State>
    private let bridge: any ToolCallBridge
    private let send: @Sendable (String) -> Void
    private let logger: Logger

    /// - Parameter send: delivers one outgoing text message; called from any thread, possibly concurrently.
    public init(options: MCPSessionOptions, catalog: ToolCatalog, bridge: any ToolCallBridge,
                logger: Logger = Logger(label: "mcp.session"), send: @escaping @Sendable (String) -> Void) {
        self.state = Mutex(State(dispatcher: MCPSessionDispatcher(options: options, catalog: catalog)))
        self.bridge = bridge
        self.send = send
        self.logger = logger
    }

    /// Handles one incoming text message. Immediate answers are sent before this returns;
    /// tool calls are answered when their upstream answers.
    public func receive(_ text: String) {
        enum Step { case send(String), nothing }
        // Decoding is pure: done outside the lock so large messages do not hold up others.
        let decoded = JSONRPCCodec.decode(text)
        let step: Step = state.withLock { state in
            guard !state.closed else { return .nothing }
            switch state.dispatcher.handle(decoded: decoded) {
            case .reply(let reply):
                return .send(reply)
            case .none:
                return .nothing
            case .cancel(let id):
                state.inFlight.removeValue(forKey: id)?.cancel()
                return .nothing
            case .forward(let id, let request):
                guard state.inFlight[id] == nil else {
                    return .send(JSONRPCCodec.errorResponse(id: id, error: .invalidRequest("id \(id) is already in use by a running request")))
                }
                state.inFlight[id] = Task { [self] in
                    let outcome = await bridge.callTool(request)
                    finish(id: id, request: request, outcome: outcome)
                }
                return .nothing
            }
        }
        if case .send(let reply) = step { send(reply) }
    }

    private func finish(id: JSONRPCID, request: ToolCallRequest, outcome: ToolCallOutcome) {
        let reply: String? = state.withLock { state in
            // Gone when cancelled by the client or the session closed: no answer is due.
            guard state.inFlight.removeValue(forKey: id) != nil else { return nil }
            return state.dispatcher.toolCallReply(id: id, outcome: outcome)
        }
        if reply != nil, case .failed(let failure) = outcome {
            logger.warning("Tool call failed", metadata: [
                "tool": "\(request.toolName)", "service": "\(request.service.name)",
                "kind": "\(failure.kind.rawValue)", "error": "\(failure.message)",
            ])
        }
        if let reply { send(reply) }
    }

    /// Swaps the tool catalog on the live session; tells the client when its listing changed.
    public func replaceCatalog(_ catalog: ToolCatalog) {
        let notice: String? = state.withLock { state in
            guard !state.closed else { return nil }
            return state.dispatcher.replaceCatalog(catalog)
        }
        if let notice { send(notice) }
    }

    /// The catalog in use.
    public var catalog: ToolCatalog { state.withLock { $0.dispatcher.catalog } }

    /// Tool calls still waiting for their upstream.
    public var inFlightCallCount: Int { state.withLock { $0.inFlight.count } }

    /// Ends the session: running tool calls are cancelled and nothing more is sent.
    public func close() {
        let tasks: [Task<Void, Never>] = state.withLock { state in
            state.closed = true
            defer { state.inFlight.removeAll() }
            return Array(state.inFlight.values)
        }
        for task in tasks { task.cancel() }
    }
}

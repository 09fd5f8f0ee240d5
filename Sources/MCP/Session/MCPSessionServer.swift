import Logging
import Synchronization

/// The MCP server of one Xiaozhi session: text messages in, text messages out.
/// Requests are handled concurrently: a slow tool call never delays `ping` or other calls. At most
/// `maximumConcurrentCalls` tool calls run at once, and no answer over `maximumMessageBytes` is sent.
/// The session holds its catalog's services on the bridge until it closes, so the bridge keeps their
/// upstream sessions while it lives and closes them after.
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
        bridge.holdServices(catalog.services)
    }

    deinit {
        // A server dropped without `close()` still gives its services back.
        let services: Set<UpstreamService>? = state.withLock { $0.closed ? nil : $0.dispatcher.catalog.services }
        if let services { bridge.releaseServices(services) }
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
                guard state.inFlight.count < state.dispatcher.options.maximumConcurrentCalls else {
                    return .send(state.dispatcher.tooManyCallsReply(id: id))
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
        let answer: (reply: String, limit: Int)? = state.withLock { state in
            // Gone when cancelled by the client or the session closed: no answer is due.
            guard state.inFlight.removeValue(forKey: id) != nil else { return nil }
            return (state.dispatcher.toolCallReply(id: id, outcome: outcome, toolName: request.toolName),
                    state.dispatcher.options.maximumMessageBytes)
        }
        guard let answer else { return }
        if case .failed(let failure) = outcome {
            logger.warning("Tool call failed", metadata: [
                "tool": "\(request.toolName)", "service": "\(request.service.name)",
                "kind": "\(failure.kind.rawValue)", "error": "\(failure.message)",
            ])
        } else if case .result(let raw) = outcome, raw.utf8.count > answer.limit {
            // The content is not logged: it is the user's data.
            logger.warning("Tool call result too large for Xiaozhi; answered with an error", metadata: [
                "tool": "\(request.toolName)", "service": "\(request.service.name)",
                "bytes": "\(raw.utf8.count)", "limit": "\(answer.limit)",
            ])
        }
        send(answer.reply)
    }

    /// Swaps the tool catalog on the live session; tells the client when its listing changed.
    /// The new catalog's services are held before the old ones are let go, so a service in both
    /// keeps its upstream session.
    public func replaceCatalog(_ catalog: ToolCatalog) {
        let swap: (notice: String?, old: Set<UpstreamService>)? = state.withLock { state in
            guard !state.closed else { return nil }
            let old = state.dispatcher.catalog.services
            bridge.holdServices(catalog.services)
            return (state.dispatcher.replaceCatalog(catalog), old)
        }
        guard let swap else { return }
        bridge.releaseServices(swap.old)
        if let notice = swap.notice { send(notice) }
    }

    /// The catalog in use.
    public var catalog: ToolCatalog { state.withLock { $0.dispatcher.catalog } }

    /// Tool calls still waiting for their upstream.
    public var inFlightCallCount: Int { state.withLock { $0.inFlight.count } }

    /// Ends the session: running tool calls are cancelled, nothing more is sent, and the catalog's
    /// services are let go on the bridge.
    public func close() {
        let ending: (tasks: [Task<Void, Never>], services: Set<UpstreamService>)? = state.withLock { state in
            guard !state.closed else { return nil }
            state.closed = true
            defer { state.inFlight.removeAll() }
            return (Array(state.inFlight.values), state.dispatcher.catalog.services)
        }
        guard let ending else { return }
        for task in ending.tasks { task.cancel() }
        bridge.releaseServices(ending.services)
    }
}

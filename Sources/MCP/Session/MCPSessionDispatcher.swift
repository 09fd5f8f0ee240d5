import JSON

/// Settings of the MCP server side of a Xiaozhi session.
public struct MCPSessionOptions: Sendable, Hashable {
    /// Sent as `serverInfo.name`: the Xiaozhi endpoint's name.
    public var endpointName: String
    public var serverVersion: String
    /// Tools per `tools/list` page.
    public var pageSize: Int
    /// Tool calls one session runs at once; more are answered with an error at once.
    public var maximumConcurrentCalls: Int
    /// The largest message sent to Xiaozhi (it closes with 1009 past its own limit, 1 MiB): a larger
    /// answer is replaced by an error naming its size, so the call is answered and the session kept.
    public var maximumMessageBytes: Int

    public init(endpointName: String, serverVersion: String = "1.0.0", pageSize: Int = 100,
                maximumConcurrentCalls: Int = 8, maximumMessageBytes: Int = 1 << 20) {
        self.endpointName = endpointName
        self.serverVersion = serverVersion
        self.pageSize = max(1, pageSize)
        self.maximumConcurrentCalls = max(1, maximumConcurrentCalls)
        self.maximumMessageBytes = max(1024, maximumMessageBytes)
    }
}

/// The pure MCP server of a Xiaozhi session: takes one incoming text message and says what to do.
/// No I/O; `MCPSessionServer` runs its actions.
public struct MCPSessionDispatcher: Sendable {
    /// What the server must do for one incoming message.
    public enum Action: Sendable, Equatable {
        /// Send this text now.
        case reply(String)
        /// Forward a tool call; answer `id` with `toolCallReply(id:outcome:)` when it completes.
        case forward(id: JSONRPCID, request: ToolCallRequest)
        /// The client cancelled the request with this id: abandon it and send no answer.
        case cancel(JSONRPCID)
        /// Nothing to send.
        case none
    }

    public let options: MCPSessionOptions
    public private(set) var catalog: ToolCatalog
    /// The negotiated protocol version once `initialize` was answered.
    public private(set) var protocolVersion: String?
    /// True once the client sent `notifications/initialized`.
    public private(set) var clientInitialized = false

    public init(options: MCPSessionOptions, catalog: ToolCatalog) {
        self.options = options
        self.catalog = catalog
    }

    /// Swaps the catalog; returns the `notifications/tools/list_changed` text to send when the
    /// client's view of the tools changed and the session is initialized.
    public mutating func replaceCatalog(_ newCatalog: ToolCatalog) -> String? {
        let changed = !catalog.hasSameListing(as: newCatalog)
        catalog = newCatalog
        guard changed, protocolVersion != nil else { return nil }
        return JSONRPCCodec.notification(method: "notifications/tools/list_changed", params: nil)
    }

    /// Decides what to do with one incoming text message.
    public mutating func handle(_ text: String) -> Action {
        handle(decoded: JSONRPCCodec.decode(text))
    }

    /// Decides what to do with a message already decoded (decoding needs no session state).
    public mutating func handle(decoded: Result<JSONRPCMessage, JSONRPCDecodeFailure>) -> Action {
        switch decoded {
        case .failure(let failure):
            return .reply(JSONRPCCodec.errorResponse(id: failure.id, error: failure.error))
        case .success(.response):
            // We send the client no requests, so a response has nothing to match.
            return .none
        case .success(.notification(let method, let params)):
            return handleNotification(method: method, params: params)
        case .success(.request(let id, let method, let params)):
            switch handleRequest(id: id, method: method, params: params) {
            case .success(.reply(let reply)): return .reply(bounded(reply, id: id, what: "answer to \(method.prefix(64))"))
            case .success(let action): return action
            case .failure(let error): return .reply(bounded(JSONRPCCodec.errorResponse(id: id, error: error), id: id, what: "error answer to \(method.prefix(64))"))
            }
        }
    }

    /// The answer to a forwarded call (an error instead when it would be over `maximumMessageBytes`).
    public func toolCallReply(id: JSONRPCID, outcome: ToolCallOutcome, toolName: String? = nil) -> String {
        let reply: String
        switch outcome {
        case .result(let rawJSON): reply = JSONRPCCodec.resultResponse(id: id, rawResult: rawJSON)
        case .upstreamError(let error): reply = JSONRPCCodec.errorResponse(id: id, error: error)
        case .failed(let failure): reply = JSONRPCCodec.errorResponse(id: id, error: failure.jsonRPCError)
        }
        return bounded(reply, id: id, what: toolName.map { "result of tools/call '\($0.prefix(128))'" } ?? "result of tools/call")
    }

    /// The answer to a call refused because `maximumConcurrentCalls` are already running.
    public func tooManyCallsReply(id: JSONRPCID) -> String {
        JSONRPCCodec.errorResponse(id: id, error: .tooManyConcurrentCalls(limit: options.maximumConcurrentCalls))
    }

    /// `reply`, or an error answering `id` when `reply` is over `maximumMessageBytes`.
    func bounded(_ reply: String, id: JSONRPCID, what: String) -> String {
        let size = reply.utf8.count
        guard size > options.maximumMessageBytes else { return reply }
        return JSONRPCCodec.errorResponse(id: id, error: .messageTooLarge(what, size: size, limit: options.maximumMessageBytes))
    }

    mutating func handleNotification(method: String, params: JSONValue?) -> Action {
        switch method {
        case "notifications/initialized":
            clientInitialized = true
            return .none
        case "notifications/cancelled":
            guard let requestId = params?["requestId"], let id = JSONRPCID(value: requestId) else { return .none }
            return .cancel(id)
        default:
            return .none
        }
    }

    mutating func handleRequest(id: JSONRPCID, method: String, params: JSONValue?) -> Result<Action, JSONRPCError> {
        if let params, !params.isObject {
            return .failure(.invalidParams("params of \(method) must be an object"))
        }
        switch method {
        case "initialize":
            let requested = params?["protocolVersion"]?.stringValue
            let version = MCPProtocolVersion.negotiate(clientVersion: requested)
            protocolVersion = version
            let result: JSONValue = .object([
                "protocolVersion": .string(version),
                "capabilities": .object(["tools": .object(["listChanged": .bool(true)])]),
                "serverInfo": .object(["name": .string(options.endpointName), "version": .string(options.serverVersion)]),
            ])
            return .success(.reply(JSONRPCCodec.resultResponse(id: id, result: result)))
        case "ping":
            return .success(.reply(JSONRPCCodec.resultResponse(id: id, rawResult: "{}")))
        case "tools/list":
            var cursor: ToolCatalogCursor?
            if let cursorValue = params?["cursor"], cursorValue != .null {
                guard let token = cursorValue.stringValue, let parsed = ToolCatalogCursor(token: token) else {
                    return .failure(.invalidParams("unknown cursor"))
                }
                cursor = parsed
            }
            let page = catalog.page(after: cursor, size: options.pageSize)
            var members = [JSONMember(key: "tools", value: .array(page.tools.map(\.listing)))]
            if let next = page.next { members.append(JSONMember(key: "nextCursor", value: .string(next.token))) }
            return .success(.reply(JSONRPCCodec.resultResponse(id: id, result: .object(members))))
        case "tools/call":
            guard let name = params?["name"]?.stringValue else {
                return .failure(.invalidParams("tools/call needs a string name"))
            }
            let arguments = params?["arguments"]
            if let arguments, arguments != .null, !arguments.isObject {
                return .failure(.invalidParams("arguments of tools/call must be an object"))
            }
            guard let tool = catalog.tool(named: name) else {
                return .failure(.invalidParams("Unknown tool: \(name)"))
            }
            let request = ToolCallRequest(toolName: name, arguments: arguments == .null ? nil : arguments, service: tool.service)
            return .success(.forward(id: id, request: request))
        default:
            return .failure(.methodNotFound(method))
        }
    }
}

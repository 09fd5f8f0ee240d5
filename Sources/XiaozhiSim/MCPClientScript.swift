import JSON

/// The MCP client Xiaozhi plays on each session, as a state machine: it speaks first (`initialize` with
/// protocol version 2024-11-05), then sends `notifications/initialized`, lists the tools following
/// `nextCursor`, pings every interval, and calls tools on demand. Text in, text out; no I/O.
struct MCPClientScript: Sendable {
    static let protocolVersion = "2024-11-05"
    /// Pages of `tools/list` followed at most, so a server repeating a cursor cannot loop us forever.
    static let maxToolPages = 100
    /// Answers and protocol errors kept for the status.
    static let historyLimit = 20

    enum Phase: String, Sendable, Hashable, Codable {
        case notStarted
        case initializing
        case listingTools
        case ready
        /// `initialize` was answered with an error.
        case failed
    }

    /// One answer from the server, as the status shows it.
    struct Answer: Sendable, Hashable, Codable {
        var id: JSONValue
        var method: String
        var ok: Bool
        /// The result (for `tools/call`, the `CallToolResult`) or the error object.
        var body: JSONValue
        var latencyMilliseconds: Int

        /// Equal when their JSON is, member order aside (the status's JSON round trip sorts members).
        static func == (lhs: Answer, rhs: Answer) -> Bool {
            lhs.method == rhs.method && lhs.ok == rhs.ok && lhs.latencyMilliseconds == rhs.latencyMilliseconds
                && lhs.id.isSemanticallyEqual(to: rhs.id) && lhs.body.isSemanticallyEqual(to: rhs.body)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(method)
            hasher.combine(ok)
            hasher.combine(latencyMilliseconds)
        }
    }

    private struct PendingRequest: Sendable {
        var method: String
        var sentAt: ContinuousClock.Instant
    }

    let pingInterval: Duration?
    let clientName: String
    private(set) var phase = Phase.notStarted
    private(set) var tools: [JSONValue] = []
    private(set) var serverInfo: JSONValue?
    private(set) var negotiatedProtocolVersion: String?
    private(set) var answers: [Answer] = []
    private(set) var protocolErrors: [String] = []
    private(set) var pingsSent = 0
    private(set) var pingsAnswered = 0
    private var pending: [JSONValue: PendingRequest] = [:]
    private var nextID = 1
    private var nextPingAt: ContinuousClock.Instant?
    private var toolPages = 0
    private var collectingTools: [JSONValue] = []

    init(pingInterval: Duration?, clientName: String = "xiaozhi-sim") {
        self.pingInterval = pingInterval
        self.clientName = clientName
    }

    /// Names of the listed tools.
    var toolNames: [String] { tools.compactMap { $0["name"]?.stringValue } }

    /// Requests sent and not answered yet.
    var pendingCount: Int { pending.count }

    /// The first message: `initialize`.
    mutating func start(now: ContinuousClock.Instant) -> [String] {
        guard phase == .notStarted else { return [] }
        phase = .initializing
        nextPingAt = pingInterval.map { now + $0 }
        let params: JSONValue = [
            "protocolVersion": .string(Self.protocolVersion),
            "capabilities": [:],
            "clientInfo": ["name": .string(clientName), "version": "1.0"],
        ]
        return [request("initialize", params: params, now: now).text]
    }

    /// A text message from the server; returns the messages to send back.
    mutating func receive(_ text: String, now: ContinuousClock.Instant) -> [String] {
        guard let message = (try? JSONValue(parsing: text)) else {
            recordError("a message that is not JSON")
            return []
        }
        if let batch = message.arrayValue {
            return batch.flatMap { handle($0, now: now) }
        }
        return handle(message, now: now)
    }

    /// Time passed: sends the periodic `ping` when due.
    mutating func tick(now: ContinuousClock.Instant) -> [String] {
        guard let interval = pingInterval, let due = nextPingAt, now >= due, phase != .notStarted else { return [] }
        nextPingAt = now + interval
        pingsSent += 1
        return [request("ping", params: nil, now: now).text]
    }

    /// When `tick` next has a ping to send.
    var nextDeadline: ContinuousClock.Instant? { nextPingAt }

    /// A `tools/call` request; returns its id (to find the answer) and the text to send.
    mutating func callTool(name: String, arguments: JSONValue, now: ContinuousClock.Instant) -> (id: JSONValue, text: String) {
        request("tools/call", params: ["name": .string(name), "arguments": arguments], now: now)
    }

    /// The answer to the request `id`, once it arrived.
    func answer(to id: JSONValue) -> Answer? {
        answers.last { $0.id == id }
    }

    // MARK: Handling

    private mutating func handle(_ message: JSONValue, now: ContinuousClock.Instant) -> [String] {
        guard message.objectFields != nil else {
            recordError("a message that is not a JSON object")
            return []
        }
        if message["jsonrpc"]?.stringValue != "2.0" { recordError("a message without \"jsonrpc\": \"2.0\"") }
        if let method = message["method"]?.stringValue {
            guard let id = message["id"] else {
                // A notification. The tool list changed: list again.
                if method == "notifications/tools/list_changed", phase == .ready {
                    return [startToolList(cursor: nil, now: now)]
                }
                return []
            }
            if method == "ping" { return [Self.response(id: id, result: [:])] }
            return [Self.errorResponse(id: id, code: -32601, message: "Method not found: \(method)")]
        }
        guard let id = message["id"], message["result"] != nil || message["error"] != nil else {
            recordError("a message that is neither a request nor a response")
            return []
        }
        guard let request = pending.removeValue(forKey: id) else {
            recordError("an answer to unknown request id \(id.jsonText)")
            return []
        }
        let latency = now - request.sentAt
        let milliseconds = Int(latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000)
        let ok = message["result"] != nil
        let body = message["result"] ?? message["error"] ?? .null
        remember(Answer(id: id, method: request.method, ok: ok, body: body, latencyMilliseconds: milliseconds))
        return handleAnswer(method: request.method, ok: ok, body: body, now: now)
    }

    private mutating func handleAnswer(method: String, ok: Bool, body: JSONValue, now: ContinuousClock.Instant) -> [String] {
        switch method {
        case "initialize":
            guard ok else {
                phase = .failed
                recordError("initialize failed")
                return []
            }
            negotiatedProtocolVersion = body["protocolVersion"]?.stringValue
            serverInfo = body["serverInfo"]
            if negotiatedProtocolVersion == nil { recordError("initialize answered without a protocolVersion") }
            if body["capabilities"]?["tools"] == nil { recordError("initialize answered without capabilities.tools") }
            let initialized = JSONValue.object(["jsonrpc": "2.0", "method": "notifications/initialized"]).jsonText
            return [initialized, startToolList(cursor: nil, now: now)]
        case "tools/list":
            guard ok else {
                recordError("tools/list failed")
                phase = .ready
                return []
            }
            collectingTools += body["tools"]?.arrayValue ?? []
            if body["tools"]?.arrayValue == nil { recordError("tools/list answered without a tools array") }
            if let cursor = body["nextCursor"]?.stringValue, toolPages < Self.maxToolPages {
                return [startToolList(cursor: cursor, now: now)]
            }
            tools = collectingTools
            phase = .ready
            return []
        case "ping":
            pingsAnswered += 1
            if ok, body != [:] { recordError("ping answered with a non-empty result") }
            return []
        default:
            return []
        }
    }

    private mutating func startToolList(cursor: String?, now: ContinuousClock.Instant) -> String {
        if cursor == nil {
            toolPages = 0
            collectingTools = []
        }
        toolPages += 1
        if phase != .ready { phase = .listingTools }
        return request("tools/list", params: cursor.map { ["cursor": .string($0)] }, now: now).text
    }

    private mutating func request(_ method: String, params: JSONValue?, now: ContinuousClock.Instant) -> (id: JSONValue, text: String) {
        let id = JSONValue.integer(nextID)
        nextID += 1
        pending[id] = PendingRequest(method: method, sentAt: now)
        var fields: [String: JSONValue] = ["jsonrpc": "2.0", "id": id, "method": .string(method)]
        if let params { fields["params"] = params }
        return (id, JSONValue(fields: fields).jsonText)
    }

    private mutating func remember(_ answer: Answer) {
        answers.append(answer)
        if answers.count > Self.historyLimit { answers.removeFirst(answers.count - Self.historyLimit) }
    }

    private mutating func recordError(_ error: String) {
        protocolErrors.append(error)
        if protocolErrors.count > Self.historyLimit { protocolErrors.removeFirst(protocolErrors.count - Self.historyLimit) }
    }

    static func response(id: JSONValue, result: JSONValue) -> String {
        JSONValue.object(["jsonrpc": "2.0", "id": id, "result": result]).jsonText
    }

    static func errorResponse(id: JSONValue, code: Int, message: String) -> String {
        JSONValue.object(["jsonrpc": "2.0", "id": id, "error": ["code": .integer(code), "message": .string(message)]]).jsonText
    }
}

import Foundation
import JSON

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An MCP Streamable HTTP client session: JSON-RPC POSTs answered as JSON or as an SSE stream,
/// `Mcp-Session-Id` kept, `initialize` done once and redone when the service forgets the session.
actor StreamableHTTPConnection: UpstreamConnection {
    private struct Session {
        var id: String?
        var protocolVersion: String
        var generation: Int
        /// False while `initialize` runs: the version header is only sent once agreed.
        var negotiated = true
    }

    /// The answer to one POST.
    private enum Exchange {
        case response(JSONRPCResponseOutcome)
        case accepted
        /// HTTP 404 to a request carrying a session id: the service forgot the session and did not process it.
        case sessionGone
    }

    private let service: UpstreamService
    private let url: URL
    private let client: HTTPStreamingClient
    private let settings: UpstreamConnectionSettings
    private var session: Session?
    private var initializing: Task<Session, any Error>?
    private var generation = 0
    private var nextRequestId = 1

    init(service: UpstreamService, url: URL, client: HTTPStreamingClient, settings: UpstreamConnectionSettings) {
        self.service = service
        self.url = url
        self.client = client
        self.settings = settings
    }

    func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome {
        do {
            var session = try await readySession()
            let requestId = makeRequestId()
            let message = JSONRPCCodec.request(id: requestId, method: "tools/call", params: UpstreamHTTP.toolCallParams(request))
            var exchange = try await postCall(message, id: requestId, session: session)
            if case .sessionGone = exchange {
                // Refused unprocessed: start a new session and send the call under it.
                settings.logger.info("Upstream MCP service forgot the session; starting a new one",
                                     metadata: ["service": "\(service.description)"])
                forget(session)
                session = try await readySession()
                exchange = try await postCall(message, id: requestId, session: session)
            }
            switch exchange {
            case .response(.result(_, let raw)): return .result(rawJSON: raw)
            case .response(.error(let error)): return .upstreamError(error)
            case .accepted:
                return .failed(UpstreamHTTP.failure(.malformedResponse, service, "accepted tools/call without answering it"))
            case .sessionGone:
                return .failed(UpstreamHTTP.failure(.httpStatus, service, "forgot a session it had just created (HTTP 404)", status: 404))
            }
        } catch {
            let failure = UpstreamHTTP.failure(for: error, service, during: "tools/call")
            if failure.kind == .unreachable || failure.kind == .connectionLost, let session {
                // The service may have restarted without our session: begin afresh next time.
                forget(session)
            }
            return .failed(failure)
        }
    }

    func close() async {
        initializing?.cancel()
        guard let sessionId = session?.id else { return }
        session = nil
        guard let request = try? UpstreamHTTP.request(url: url, method: "DELETE", service: service, accept: "application/json, text/event-stream",
                                                      body: nil, timeout: 5, extraHeaders: [("Mcp-Session-Id", sessionId)]) else { return }
        _ = try? await client.fetch(request, limits: settings.answerLimits)
    }

    /// POSTs a call; when the caller gives up (deadline, session closed), tells the service with
    /// `notifications/cancelled`, since a dropped connection alone does not cancel a request.
    private func postCall(_ message: String, id: JSONRPCID, session: Session) async throws -> Exchange {
        try await withTaskCancellationHandler {
            try await post(message, session: session, during: "tools/call")
        } onCancel: {
            Task { await self.announceCancellation(of: id, session: session) }
        }
    }

    private func announceCancellation(of id: JSONRPCID, session: Session) async {
        let notice = JSONRPCCodec.notification(method: "notifications/cancelled", params: .object([
            JSONMember(key: "requestId", value: (try? JSONValue(parsing: id.rawJSON)) ?? .null),
            JSONMember(key: "reason", value: .string("deadline passed or session closed")),
        ]))
        _ = try? await post(notice, session: session, during: "notifications/cancelled")
    }

    private func makeRequestId() -> JSONRPCID {
        defer { nextRequestId += 1 }
        return JSONRPCID(nextRequestId)
    }

    private func forget(_ stale: Session) {
        if session?.generation == stale.generation { session = nil }
    }

    /// The current session, initializing one when there is none (concurrent callers share it).
    private func readySession() async throws -> Session {
        if let session { return session }
        if let initializing { return try await initializing.value }
        let task = Task { try await self.initialize() }
        initializing = task
        defer { initializing = nil }
        let session = try await task.value
        self.session = session
        return session
    }

    private func initialize() async throws -> Session {
        generation += 1
        let bare = Session(id: nil, protocolVersion: UpstreamHTTP.protocolVersion, generation: generation, negotiated: false)
        let message = JSONRPCCodec.request(id: makeRequestId(), method: "initialize", params: UpstreamHTTP.initializeParams(settings))
        var sessionId: String?
        let exchange = try await post(message, session: bare, during: "initialize") { headers in sessionId = headers["mcp-session-id"] }
        guard case .response(let outcome) = exchange else {
            throw UpstreamHTTP.failure(.initializeFailed, service, "gave no answer to initialize")
        }
        let result: JSONValue
        switch outcome {
        case .error(let error):
            throw UpstreamHTTP.failure(.initializeFailed, service, "refused initialize: \(error.message.prefix(200))")
        case .result(let value, _): result = value
        }
        let version = result["protocolVersion"]?.stringValue ?? UpstreamHTTP.protocolVersion
        let session = Session(id: sessionId, protocolVersion: version, generation: bare.generation)
        let initialized = JSONRPCCodec.notification(method: "notifications/initialized", params: nil)
        _ = try await post(initialized, session: session, during: "notifications/initialized")
        return session
    }

    /// POSTs one message and reads its answer (JSON or SSE). Nonisolated: answers are read
    /// concurrently, not one at a time on the actor.
    private nonisolated func post(_ message: String, session: Session, during what: String,
                      onHead: ((_ headers: [String: String]) -> Void)? = nil) async throws -> Exchange {
        var headers: [(String, String)] = []
        if session.negotiated { headers.append(("MCP-Protocol-Version", session.protocolVersion)) }
        if let id = session.id { headers.append(("Mcp-Session-Id", id)) }
        let request = try UpstreamHTTP.request(url: url, method: "POST", service: service, accept: "application/json, text/event-stream",
                                               body: message, timeout: settings.requestTimeout, extraHeaders: headers)
        let expectedId: JSONRPCID? = {
            if case .success(.request(let id, _, _)) = JSONRPCCodec.decode(message) { return id }
            return nil
        }()
        var status = 0
        var contentType = ""
        var body = Data()
        var parser = settings.makeEventParser()
        // The client ends the response past `maximumResponseBytes` (JSON or event stream alike) or when idle.
        for try await event in client.stream(request, limits: settings.answerLimits) {
            switch event {
            case .head(let s, let h):
                status = s
                contentType = (h["content-type"] ?? "").lowercased()
                onHead?(h)
                if status == 404, session.id != nil { return .sessionGone }
            case .body(let chunk):
                guard (200..<300).contains(status), contentType.hasPrefix("text/event-stream") else {
                    body.append(chunk)
                    continue
                }
                for sse in try parser.feed(chunk) where sse.type == "message" {
                    if let outcome = try match(sse.data, expectedId, during: what) { return .response(outcome) }
                }
                if let failure = parser.failure { throw failure }
            }
        }
        try Task.checkCancellation()
        guard (200..<300).contains(status) else {
            throw UpstreamHTTP.statusFailure(status, service, during: what, body: body)
        }
        guard let expectedId else { return .accepted }
        if status == 202 { return .accepted }
        if contentType.hasPrefix("text/event-stream") {
            throw UpstreamHTTP.failure(.malformedResponse, service, "ended the event stream without answering \(what)")
        }
        guard contentType.hasPrefix("application/json") else {
            throw UpstreamHTTP.failure(.malformedResponse, service, "answered \(what) with content type '\(contentType.prefix(60))'")
        }
        guard let outcome = try match(String(decoding: body, as: UTF8.self), expectedId, during: what) else {
            throw UpstreamHTTP.failure(.malformedResponse, service, "answered \(what) with a message that is not its response")
        }
        return .response(outcome)
    }

    /// The outcome when `text` is the response to `expectedId`; nil for other messages.
    private nonisolated func match(_ text: String, _ expectedId: JSONRPCID?, during what: String) throws -> JSONRPCResponseOutcome? {
        switch JSONRPCCodec.decode(text) {
        case .success(.response(let id, let outcome)):
            if id == expectedId { return outcome }
            if id == nil, case .error(let error) = outcome {
                throw UpstreamHTTP.failure(.malformedResponse, service, "answered \(what) with an error: \(error.message.prefix(200))")
            }
            return nil
        case .success:
            return nil
        case .failure(let failure):
            throw UpstreamHTTP.failure(.malformedResponse, service, "answered \(what) with invalid JSON-RPC (\(failure.error.message.prefix(120)))")
        }
    }
}

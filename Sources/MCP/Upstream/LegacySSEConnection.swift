import ClientSupport
import Foundation
import JSON

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An MCP client session over the older HTTP+SSE transport: a GET event stream whose `endpoint`
/// event names where to POST; answers arrive on the stream. Reconnects on the next call after the
/// stream ends. The stream is bounded: its lines and events, the bytes it may send between two
/// answers, and how long it may stay silent; past a bound it ends and its waiting calls fail.
actor LegacySSEConnection: UpstreamConnection {
    private struct Link {
        var messagesURL: URL
        var generation: Int
        var reader: Task<Void, Never>
    }

    private let service: UpstreamService
    private let url: URL
    private let client: HTTPStreamingClient
    private let settings: UpstreamConnectionSettings
    private var link: Link?
    private var connecting: Task<Link, any Error>?
    private var generation = 0
    private var nextRequestId = 1
    /// Calls waiting for their answer on the stream, by request id.
    private var pending: [JSONRPCID: Promise<JSONRPCResponseOutcome>] = [:]
    /// Where the current connection attempt waits for the `endpoint` event.
    private var endpointWaiter: Promise<URL>?

    init(service: UpstreamService, url: URL, client: HTTPStreamingClient, settings: UpstreamConnectionSettings) {
        self.service = service
        self.url = url
        self.client = client
        self.settings = settings
    }

    func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome {
        do {
            let params = UpstreamHTTP.toolCallParams(request)
            var outcome: JSONRPCResponseOutcome
            do {
                outcome = try await exchange(method: "tools/call", params: params, over: try await readyLink())
            } catch is SessionGone {
                // Refused unprocessed (the service restarted and forgot the stream): reconnect and send it there.
                settings.logger.info("Upstream MCP service forgot the event stream's session; reconnecting",
                                     metadata: ["service": "\(service.description)"])
                outcome = try await exchange(method: "tools/call", params: params, over: try await readyLink())
            }
            switch outcome {
            case .result(_, let raw): return .result(rawJSON: raw)
            case .error(let error): return .upstreamError(error)
            }
        } catch {
            return .failed(UpstreamHTTP.failure(for: error, service, during: "tools/call"))
        }
    }

    func close() async {
        connecting?.cancel()
        link?.reader.cancel()
        link = nil
        failPending(UpstreamHTTP.failure(.cancelled, service, "session closed"))
    }

    /// HTTP 404 from the messages endpoint: the service forgot the session and did not process the message.
    private struct SessionGone: Error {}

    private func readyLink() async throws -> Link {
        if let link { return link }
        if let connecting { return try await connecting.value }
        let task = Task { try await self.connect() }
        connecting = task
        defer { connecting = nil }
        let link = try await task.value
        self.link = link
        return link
    }

    private func connect() async throws -> Link {
        generation += 1
        let current = generation
        let waiter = Promise<URL>()
        endpointWaiter = waiter
        // The stream's head is due at once (the service computes nothing for it): the idle deadline bounds it too.
        let idleSeconds = Double(settings.idleTimeout.components.seconds)
        let request = try UpstreamHTTP.request(url: url, method: "GET", service: service, accept: "text/event-stream",
                                               body: nil, timeout: idleSeconds)
        let stream = client.stream(request, limits: settings.eventStreamLimits)
        let reader = Task { await self.read(stream, generation: current) }
        let messagesURL: URL
        do {
            messagesURL = try await waiter.value()
        } catch {
            reader.cancel()
            throw error
        }
        let link = Link(messagesURL: messagesURL, generation: current, reader: reader)
        do {
            let outcome = try await exchange(method: "initialize", params: UpstreamHTTP.initializeParams(settings), over: link)
            if case .error(let error) = outcome {
                throw UpstreamHTTP.failure(.initializeFailed, service, "refused initialize: \(error.message.prefix(200))")
            }
            try await postMessage(JSONRPCCodec.notification(method: "notifications/initialized", params: nil), to: link, during: "notifications/initialized")
        } catch is SessionGone {
            reader.cancel()
            throw UpstreamHTTP.failure(.initializeFailed, service, "forgot the event stream's session during initialize (HTTP 404)", status: 404)
        } catch {
            reader.cancel()
            throw UpstreamHTTP.failure(for: error, service, during: "initialize")
        }
        return link
    }

    /// Sends a request and waits for its answer on the stream.
    /// When the caller gives up (deadline, session closed), the service is told with `notifications/cancelled`.
    private func exchange(method: String, params: JSONValue, over link: Link) async throws -> JSONRPCResponseOutcome {
        let id = JSONRPCID(nextRequestId)
        nextRequestId += 1
        let answer = Promise<JSONRPCResponseOutcome>()
        pending[id] = answer
        defer { pending[id] = nil }
        return try await withTaskCancellationHandler {
            try await postMessage(JSONRPCCodec.request(id: id, method: method, params: params), to: link, during: method)
            return try await answer.value()
        } onCancel: {
            Task { await self.announceCancellation(of: id, over: link) }
        }
    }

    private func announceCancellation(of id: JSONRPCID, over link: Link) async {
        guard self.link?.generation == link.generation else { return }
        let notice = JSONRPCCodec.notification(method: "notifications/cancelled", params: .object([
            JSONMember(key: "requestId", value: (try? JSONValue(parsing: id.rawJSON)) ?? .null),
            JSONMember(key: "reason", value: .string("deadline passed or session closed")),
        ]))
        try? await postMessage(notice, to: link, during: "notifications/cancelled")
    }

    private func postMessage(_ message: String, to link: Link, during what: String) async throws {
        let (status, body) = try await send(message, to: link.messagesURL)
        guard (200..<300).contains(status) else {
            if status == 404 {
                // The service no longer knows this stream's session and did not take the message.
                dropLink(generation: link.generation)
                throw SessionGone()
            }
            throw UpstreamHTTP.statusFailure(status, service, during: what, body: body)
        }
    }

    /// The HTTP part of a POST, off the actor so POSTs run concurrently.
    private nonisolated func send(_ message: String, to messagesURL: URL) async throws -> (status: Int, body: Data) {
        let request = try UpstreamHTTP.request(url: messagesURL, method: "POST", service: service, accept: "application/json, text/event-stream",
                                               body: message, timeout: settings.requestTimeout)
        let (status, _, body) = try await client.fetch(request, limits: settings.answerLimits)
        return (status, body)
    }

    /// Reads the event stream until it ends; runs outside the actor and reports into it.
    private nonisolated func read(_ stream: HTTPResponseStream, generation: Int) async {
        var parser = settings.makeEventParser()
        // Bytes since the last answer to a waiting call: a stream that only sends other things (or
        // one endless event) is bounded like an answer is.
        var sinceAnswer = 0
        var status = 0
        var errorBody = Data()
        var ending: BridgeFailure?
        do {
            for try await event in stream {
                switch event {
                case .head(let s, let headers):
                    status = s
                    let contentType = (headers["content-type"] ?? "").lowercased()
                    if (200..<300).contains(s), !contentType.hasPrefix("text/event-stream") {
                        ending = UpstreamHTTP.failure(.malformedResponse, service, "answered the event stream GET with content type '\(contentType.prefix(60))'")
                    }
                case .body(let chunk):
                    guard (200..<300).contains(status) else {
                        if errorBody.count < 4096 { errorBody.append(chunk) }
                        continue
                    }
                    sinceAnswer += chunk.count
                    for sse in try parser.feed(chunk) {
                        if sse.type == "message" {
                            // Decoded here, off the actor; only the hand-over hops onto it.
                            if case .success(.response(let id?, let outcome)) = JSONRPCCodec.decode(sse.data),
                               await deliver(outcome, to: id, generation: generation) {
                                sinceAnswer = 0
                            }
                        } else {
                            await handle(sse, generation: generation)
                        }
                    }
                    if let failure = parser.failure { throw failure }
                    if sinceAnswer > settings.maximumResponseBytes {
                        ending = UpstreamHTTP.failure(.responseTooLarge, service, "sent more than \(settings.maximumResponseBytes) bytes on the event stream without an answer")
                    }
                }
                if ending != nil { break }
            }
            if ending == nil {
                ending = (200..<300).contains(status)
                    ? UpstreamHTTP.failure(.connectionLost, service, "closed the event stream")
                    : UpstreamHTTP.statusFailure(status, service, during: "the event stream GET", body: errorBody)
            }
        } catch {
            ending = UpstreamHTTP.failure(for: error, service, during: "the event stream")
        }
        await streamEnded(generation: generation, failure: ending!)
    }

    private func handle(_ event: ServerSentEvent, generation: Int) {
        guard generation == self.generation else { return }
        switch event.type {
        case "endpoint":
            guard let waiter = endpointWaiter else { return }
            endpointWaiter = nil
            let target = event.data.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let resolved = URL(string: target, relativeTo: url)?.absoluteURL,
                  resolved.scheme == url.scheme, resolved.host == url.host, resolved.port == url.port else {
                waiter.fulfill(.failure(UpstreamHTTP.failure(.malformedResponse, service, "sent an endpoint event that is not on its own origin")))
                return
            }
            waiter.fulfill(.success(resolved))
        default:
            break
        }
    }

    /// True when the answer went to a waiting call.
    private func deliver(_ outcome: JSONRPCResponseOutcome, to id: JSONRPCID, generation: Int) -> Bool {
        guard generation == self.generation, let answer = pending[id] else { return false }
        return answer.fulfill(.success(outcome))
    }

    private func streamEnded(generation: Int, failure: BridgeFailure) {
        guard generation == self.generation else { return }
        endpointWaiter?.fulfill(.failure(failure))
        endpointWaiter = nil
        dropLink(generation: generation)
        failPending(failure)
    }

    private func dropLink(generation: Int) {
        guard let link, link.generation == generation else { return }
        link.reader.cancel()
        self.link = nil
    }

    private func failPending(_ failure: BridgeFailure) {
        for answer in pending.values { answer.fulfill(.failure(failure)) }
    }
}

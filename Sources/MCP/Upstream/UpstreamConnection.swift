import Foundation
import JSON
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A live MCP client session with one upstream service.
protocol UpstreamConnection: Sendable {
    /// Sends `tools/call` once and returns the answer.
    func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome
    /// Ends the upstream session (best effort).
    func close() async
}

/// Settings shared by the upstream connections.
struct UpstreamConnectionSettings: Sendable {
    var clientName: String
    var clientVersion: String
    var requestTimeout: TimeInterval
    /// Bytes of one answer (a JSON body, a POST's event stream, or what an event stream sends before an answer).
    var maximumResponseBytes: Int
    var maximumEventStreamLineBytes: Int
    var maximumEventStreamEventBytes: Int
    /// No byte for this long ends a response or an event stream.
    var idleTimeout: Duration
    var logger: Logger

    /// The bounds of one answer.
    var answerLimits: HTTPStreamLimits {
        HTTPStreamLimits(maximumBodyBytes: maximumResponseBytes, idleTimeout: idleTimeout)
    }

    /// The bounds of a long-lived event stream: no total, its reader bounds the bytes between answers
    /// (and reads no faster than it parses).
    var eventStreamLimits: HTTPStreamLimits {
        HTTPStreamLimits(maximumBodyBytes: nil, idleTimeout: idleTimeout)
    }

    func makeEventParser() -> ServerSentEventParser {
        ServerSentEventParser(maximumLineBytes: maximumEventStreamLineBytes, maximumEventBytes: maximumEventStreamEventBytes)
    }
}

/// Building requests and reading answers, the same for both HTTP transports.
enum UpstreamHTTP {
    static let protocolVersion = MCPProtocolVersion.latest

    /// The request, or a failure naming the header that cannot be sent as it is (never its value).
    static func request(url: URL, method: String, service: UpstreamService, accept: String, body: String?,
                        timeout: TimeInterval, extraHeaders: [(String, String)] = []) throws(BridgeFailure) -> URLRequest {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue(accept, forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        // Checked here as well as when the config is parsed: a service can be built by hand, and the
        // user id and session id come from elsewhere.
        if let problem = service.authentication.headerProblem {
            throw failure(.invalidHeader, service, "has authentication that cannot be sent: \(problem)")
        }
        for header in service.authentication.headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        var headers = extraHeaders
        if let userId = service.userId { headers.insert(("X-User-Id", userId), at: 0) }
        for (name, value) in headers {
            if let problem = HTTPHeaderCheck.problem(name: name, value: value) {
                throw failure(.invalidHeader, service, "cannot send a request: \(problem)")
            }
            request.setValue(value, forHTTPHeaderField: name)
        }
        return request
    }

    static func initializeParams(_ settings: UpstreamConnectionSettings) -> JSONValue {
        .object([
            "protocolVersion": .string(protocolVersion),
            "capabilities": .object([]),
            "clientInfo": .object(["name": .string(settings.clientName), "version": .string(settings.clientVersion)]),
        ])
    }

    static func toolCallParams(_ request: ToolCallRequest) -> JSONValue {
        var members = [JSONMember(key: "name", value: .string(request.toolName))]
        if let arguments = request.arguments { members.append(JSONMember(key: "arguments", value: arguments)) }
        return .object(members)
    }

    static func failure(_ kind: BridgeFailure.Kind, _ service: UpstreamService, _ what: String, status: Int? = nil) -> BridgeFailure {
        BridgeFailure(kind: kind, serviceName: service.name,
                      message: "Upstream MCP service \(service.description): \(what)", httpStatus: status)
    }

    static func failure(for error: any Error, _ service: UpstreamService, during what: String) -> BridgeFailure {
        if let failure = error as? BridgeFailure { return failure }
        if let limit = error as? ServerSentEventLimitError { return failure(.responseTooLarge, service, "\(limit) during \(what)") }
        if error is CancellationError { return failure(.cancelled, service, "\(what) was cancelled") }
        guard let transport = error as? HTTPTransportError else {
            return failure(.connectionLost, service, "\(what) failed")
        }
        switch transport.kind {
        case .unreachable: return failure(.unreachable, service, "unreachable during \(what) (\(transport.detail))")
        case .timedOut: return failure(.timeout, service, "\(what) timed out")
        case .cancelled: return failure(.cancelled, service, "\(what) was cancelled")
        case .other: return failure(.connectionLost, service, "\(what) failed (\(transport.detail))")
        case .tooLarge: return failure(.responseTooLarge, service, "\(what): \(transport.detail)")
        case .idle: return failure(.idle, service, "\(what): \(transport.detail)")
        }
    }

    /// The failure for an HTTP status that is not an answer.
    static func statusFailure(_ status: Int, _ service: UpstreamService, during what: String, body: Data) -> BridgeFailure {
        if status == 401 || status == 403 {
            return failure(.authenticationRejected, service,
                           "rejected the credentials (HTTP \(status)) during \(what); check the service config's authentication",
                           status: status)
        }
        var detail = "answered HTTP \(status) to \(what)"
        // A JSON-RPC error body says why; its message is the service's own text.
        if case .success(.response(_, .error(let error))) = JSONRPCCodec.decode(bytes: Array(body.prefix(4096))) {
            detail += ": \(error.message.prefix(200))"
        }
        return failure(.httpStatus, service, detail, status: status)
    }
}

import Foundation
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
    var maximumResponseBytes: Int
    var logger: Logger
}

/// Building requests and reading answers, the same for both HTTP transports.
enum UpstreamHTTP {
    static let protocolVersion = MCPProtocolVersion.latest

    static func request(url: URL, method: String, service: UpstreamService, accept: String, body: String?,
                        timeout: TimeInterval, extraHeaders: [(String, String)] = []) -> URLRequest {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue(accept, forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for header in service.authentication.headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        if let userId = service.userId { request.setValue(userId, forHTTPHeaderField: "X-User-Id") }
        for (name, value) in extraHeaders { request.setValue(value, forHTTPHeaderField: name) }
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
        if error is CancellationError { return failure(.cancelled, service, "\(what) was cancelled") }
        guard let transport = error as? HTTPTransportError else {
            return failure(.connectionLost, service, "\(what) failed")
        }
        switch transport.kind {
        case .unreachable: return failure(.unreachable, service, "unreachable during \(what) (\(transport.detail))")
        case .timedOut: return failure(.timeout, service, "\(what) timed out")
        case .cancelled: return failure(.cancelled, service, "\(what) was cancelled")
        case .other: return failure(.connectionLost, service, "\(what) failed (\(transport.detail))")
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

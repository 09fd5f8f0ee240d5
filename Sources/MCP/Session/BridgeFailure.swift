import JSON

/// Why the bridge got no answer from an upstream service. Its message names the service and the
/// redacted endpoint, never a credential.
public struct BridgeFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The service's protocol is one the pool cannot run (`stdio`).
        case unsupportedTransport = "unsupported-transport"
        /// No connection (refused, reset, DNS).
        case unreachable
        /// No answer within the call's deadline.
        case timeout
        /// HTTP 401 or 403.
        case authenticationRejected = "authentication-rejected"
        /// Another HTTP status where an answer was due.
        case httpStatus = "http-status"
        /// The service answered something that is not a valid MCP answer.
        case malformedResponse = "malformed-response"
        /// The connection to the service ended before it answered.
        case connectionLost = "connection-lost"
        /// The service failed its MCP `initialize`.
        case initializeFailed = "initialize-failed"
        /// The session was closed while the call ran.
        case cancelled
        /// The answer, an event-stream line or event, or what a stream sent before answering, passed its byte limit.
        case responseTooLarge = "response-too-large"
        /// The service sent nothing for longer than the idle deadline.
        case idle = "upstream-idle"
        /// A header of the request (from the service config or the endpoint's owner) cannot be sent as it is.
        case invalidHeader = "invalid-header"
        /// The worker has as many upstream connections as it may, all busy with calls.
        case tooManyConnections = "too-many-connections"
    }

    public var kind: Kind
    public var serviceName: String
    public var message: String
    /// The HTTP status, when one was the reason.
    public var httpStatus: Int?

    public init(kind: Kind, serviceName: String, message: String, httpStatus: Int? = nil) {
        self.kind = kind
        self.serviceName = serviceName
        self.message = message
        self.httpStatus = httpStatus
    }

    public var description: String { message }

    /// The JSON-RPC error answered to the Xiaozhi client.
    public var jsonRPCError: JSONRPCError {
        var data: [JSONMember] = [
            JSONMember(key: "kind", value: .string(kind.rawValue)),
            JSONMember(key: "service", value: .string(serviceName)),
        ]
        if let httpStatus { data.append(JSONMember(key: "httpStatus", value: .integer(httpStatus))) }
        return JSONRPCError(code: JSONRPCError.internalErrorCode, message: message, data: .object(data))
    }
}

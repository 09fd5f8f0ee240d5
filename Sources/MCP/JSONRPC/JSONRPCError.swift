import JSON

/// The error object of a JSON-RPC 2.0 response.
public struct JSONRPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// -32700: the text is not JSON.
    public static let parseErrorCode = -32700
    /// -32600: JSON, but not a valid JSON-RPC 2.0 message.
    public static let invalidRequestCode = -32600
    /// -32601: no such method.
    public static let methodNotFoundCode = -32601
    /// -32602: the method's params are wrong.
    public static let invalidParamsCode = -32602
    /// -32603: the server failed while handling a valid request.
    public static let internalErrorCode = -32603

    public static func parseError(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: parseErrorCode, message: "Parse error: \(detail)")
    }

    public static func invalidRequest(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: invalidRequestCode, message: "Invalid request: \(detail)")
    }

    public static func methodNotFound(_ method: String) -> JSONRPCError {
        JSONRPCError(code: methodNotFoundCode, message: "Method not found: \(method)")
    }

    public static func invalidParams(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: invalidParamsCode, message: "Invalid params: \(detail)")
    }

    public static func internalError(_ detail: String, data: JSONValue? = nil) -> JSONRPCError {
        JSONRPCError(code: internalErrorCode, message: detail, data: data)
    }

    /// The error object as JSON.
    public var jsonValue: JSONValue {
        var members = [JSONMember(key: "code", value: .integer(code)), JSONMember(key: "message", value: .string(message))]
        if let data { members.append(JSONMember(key: "data", value: data)) }
        return .object(members)
    }

    public var description: String { "JSON-RPC error \(code): \(message)" }
}

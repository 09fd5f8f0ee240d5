import JSON

/// One decoded JSON-RPC 2.0 message.
public enum JSONRPCMessage: Sendable, Equatable {
    /// A call that expects an answer.
    case request(id: JSONRPCID, method: String, params: JSONValue?)
    /// A call that expects none.
    case notification(method: String, params: JSONValue?)
    /// An answer; `id` is nil when the peer answered with `"id": null`.
    case response(id: JSONRPCID?, outcome: JSONRPCResponseOutcome)
}

/// The body of a response: a result (with its exact source text) or an error.
public enum JSONRPCResponseOutcome: Sendable, Equatable {
    case result(JSONValue, rawJSON: String)
    case error(JSONRPCError)
}

/// A message that could not be decoded, with the error to answer and the id to answer to
/// (nil when the id could not be read, answered as `"id": null`).
public struct JSONRPCDecodeFailure: Error, Sendable, Equatable {
    public var error: JSONRPCError
    public var id: JSONRPCID?
}

import JSON

/// The errors a session answers when a request goes past one of its own bounds. They use the
/// internal-error code with a `data.kind`, like the bridge's failures, so a client tells them apart
/// by kind.
extension JSONRPCError {
    /// Past `MCPSessionOptions.maximumConcurrentCalls`.
    static func tooManyConcurrentCalls(limit: Int) -> JSONRPCError {
        .internalError(
            "Too many tool calls at once on this session: at most \(limit) may run together; retry when one has answered",
            data: .object([
                JSONMember(key: "kind", value: .string("too-many-calls")),
                JSONMember(key: "limit", value: .integer(limit)),
            ]))
    }

    /// An answer whose message would be `size` bytes, past `MCPSessionOptions.maximumMessageBytes`.
    static func messageTooLarge(_ what: String, size: Int, limit: Int) -> JSONRPCError {
        .internalError(
            "The \(what) is \(size) bytes as a message, over the \(limit)-byte limit of a Xiaozhi message; it was not sent",
            data: .object([
                JSONMember(key: "kind", value: .string("message-too-large")),
                JSONMember(key: "size", value: .integer(size)),
                JSONMember(key: "limit", value: .integer(limit)),
            ]))
    }
}

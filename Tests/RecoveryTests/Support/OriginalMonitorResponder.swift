import JSON
import MCP

/// The MCP server side of an original-platform session, reduced to what keeps a Xiaozhi session up:
/// Xiaozhi speaks first, and every request gets an answer. No tools. Text in, text out; no I/O.
struct OriginalMonitorResponder: Sendable {
    /// Offered when the client names no protocol version (the one the simulator speaks).
    static let defaultProtocolVersion = "2024-11-05"

    /// The endpoint's name, given as `serverInfo.name`.
    let endpointName: String

    /// The answer to one text message: a response for a request, nil for a notification or a response.
    func reply(to text: String) -> String? {
        switch JSONRPCCodec.decode(text) {
        case .failure(let failure):
            return JSONRPCCodec.errorResponse(id: failure.id, error: failure.error)
        case .success(.notification), .success(.response):
            return nil
        case .success(.request(let id, let method, let params)):
            switch method {
            case "initialize":
                let version = params?["protocolVersion"]?.stringValue ?? Self.defaultProtocolVersion
                let result: JSONValue = .object([
                    "protocolVersion": .string(version),
                    "capabilities": .object(["tools": .object([])]),
                    "serverInfo": .object(["name": .string(endpointName), "version": .string("1.0")]),
                ])
                return JSONRPCCodec.resultResponse(id: id, result: result)
            case "ping":
                return JSONRPCCodec.resultResponse(id: id, rawResult: "{}")
            case "tools/list":
                return JSONRPCCodec.resultResponse(id: id, rawResult: #"{"tools":[]}"#)
            default:
                return JSONRPCCodec.errorResponse(id: id, error: .methodNotFound(method))
            }
        }
    }
}

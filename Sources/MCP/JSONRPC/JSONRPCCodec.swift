import JSON

/// Decodes and encodes JSON-RPC 2.0 messages, one message per text.
public enum JSONRPCCodec {
    /// Decodes one message; failures carry the JSON-RPC error to answer with.
    public static func decode(_ text: String) -> Result<JSONRPCMessage, JSONRPCDecodeFailure> {
        decode(bytes: Array(text.utf8))
    }

    /// Decodes one message from UTF-8 bytes.
    public static func decode(bytes: [UInt8]) -> Result<JSONRPCMessage, JSONRPCDecodeFailure> {
        let parsed: (members: [JSONParser.SpannedMember]?, value: JSONValue)
        do {
            parsed = try JSONParser.parseSpanned(bytes)
        } catch {
            return .failure(JSONRPCDecodeFailure(error: .parseError(error.description), id: nil))
        }
        guard let members = parsed.members else {
            if case .array = parsed.value {
                return .failure(JSONRPCDecodeFailure(error: .invalidRequest("batches are not supported"), id: nil))
            }
            return .failure(JSONRPCDecodeFailure(error: .invalidRequest("a message must be a JSON object"), id: nil))
        }
        func member(_ key: String) -> JSONParser.SpannedMember? { members.last(where: { $0.key == key }) }
        func raw(_ m: JSONParser.SpannedMember) -> String { String(decoding: bytes[m.range], as: UTF8.self) }

        var id: JSONRPCID?
        var idIsNull = false
        if let idMember = member("id") {
            switch idMember.value {
            case .number, .string: id = JSONRPCID(rawJSON: raw(idMember))
            case .null: idIsNull = true
            default:
                return .failure(JSONRPCDecodeFailure(error: .invalidRequest("id must be a string or a number"), id: nil))
            }
        }
        guard member("jsonrpc")?.value == .string("2.0") else {
            return .failure(JSONRPCDecodeFailure(error: .invalidRequest("jsonrpc must be \"2.0\""), id: id))
        }
        if let methodMember = member("method") {
            guard case .string(let method) = methodMember.value else {
                return .failure(JSONRPCDecodeFailure(error: .invalidRequest("method must be a string"), id: id))
            }
            let params = member("params")?.value
            if let params {
                switch params {
                case .object, .array: break
                default:
                    return .failure(JSONRPCDecodeFailure(error: .invalidRequest("params must be an object or an array"), id: id))
                }
            }
            if idIsNull {
                return .failure(JSONRPCDecodeFailure(error: .invalidRequest("id must not be null"), id: nil))
            }
            if let id { return .success(.request(id: id, method: method, params: params)) }
            return .success(.notification(method: method, params: params))
        }
        if let resultMember = member("result") {
            guard id != nil || idIsNull else {
                return .failure(JSONRPCDecodeFailure(error: .invalidRequest("a response needs an id"), id: nil))
            }
            return .success(.response(id: id, outcome: .result(resultMember.value, rawJSON: raw(resultMember))))
        }
        if let errorMember = member("error") {
            guard let error = decodeError(errorMember.value) else {
                return .failure(JSONRPCDecodeFailure(error: .invalidRequest("error must have an integer code and a message"), id: id))
            }
            return .success(.response(id: id, outcome: .error(error)))
        }
        return .failure(JSONRPCDecodeFailure(error: .invalidRequest("a message needs a method, a result or an error"), id: id))
    }

    static func decodeError(_ value: JSONValue) -> JSONRPCError? {
        guard let code = value["code"]?.intValue, let message = value["message"]?.stringValue else { return nil }
        return JSONRPCError(code: code, message: message, data: value["data"])
    }

    /// A success response whose result is given as JSON text (spliced in verbatim).
    public static func resultResponse(id: JSONRPCID, rawResult: String) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(id.rawJSON),\"result\":\(rawResult)}"
    }

    /// A success response.
    public static func resultResponse(id: JSONRPCID, result: JSONValue) -> String {
        resultResponse(id: id, rawResult: result.jsonText)
    }

    /// An error response; a nil id is written as `null`.
    public static func errorResponse(id: JSONRPCID?, error: JSONRPCError) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(id?.rawJSON ?? "null"),\"error\":\(error.jsonValue.jsonText)}"
    }

    /// A request.
    public static func request(id: JSONRPCID, method: String, params: JSONValue?) -> String {
        var text = "{\"jsonrpc\":\"2.0\",\"id\":\(id.rawJSON),\"method\":\(JSONWriter.quoted(method))"
        if let params { text += ",\"params\":\(params.jsonText)" }
        return text + "}"
    }

    /// A notification.
    public static func notification(method: String, params: JSONValue?) -> String {
        var text = "{\"jsonrpc\":\"2.0\",\"method\":\(JSONWriter.quoted(method))"
        if let params { text += ",\"params\":\(params.jsonText)" }
        return text + "}"
    }
}

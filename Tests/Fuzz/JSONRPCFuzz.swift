import JSON

/// Fuzzes the JSON parser and the JSON-RPC 2.0 decoding of one message: the text of every Xiaozhi WebSocket
/// message and every upstream answer goes through them, and the answers the pool sends back are built from
/// what they decoded (ids echoed verbatim, parse errors described).
///
/// The input is the message's bytes; there are no settings.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRPC(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Array(UnsafeBufferPointer(start: bytes, count: count))
    let parsed = checkParser(data)
    checkDecoding(data, parsed: parsed)
    return 0
}

// MARK: JSON

/// Both parsers agree; a parsed value stays within the depth limit and survives writing and parsing again.
private func checkParser(_ data: [UInt8]) -> JSONValue? {
    let plain = Result(catching: { () throws(JSONParseError) in try JSONParser.parse(data) })
    let spanned = Result(catching: { () throws(JSONParseError) in try JSONParser.parseSpanned(data) })
    switch (plain, spanned) {
    case (.failure(let error), .failure(let spannedError)):
        require(error.offset >= 0 && error.offset <= data.count, "error offset \(error.offset) outside \(data.count) bytes")
        require(error == spannedError, "the parsers fail differently: \(error) and \(spannedError)")
        return nil
    case (.success(let value), .success(let (members, spannedValue))):
        require(value == spannedValue, "the parsers read different values")
        if let members {
            for member in members {
                // Each member's range is exactly its value's text.
                let text = Array(data[member.range])
                let again = Result(catching: { () throws(JSONParseError) in try JSONParser.parse(text) })
                require(again == .success(member.value), "member '\(member.key)' spans \(hex(text)), which parses as \(again)")
            }
        } else {
            require(!value.isObject, "an object read without its members")
        }
        require(depth(value) <= JSONParser.maximumDepth, "a value nested \(depth(value)) deep accepted")
        checkScalars(value)
        let written = value.jsonText
        let reparsed = Result(catching: { () throws(JSONParseError) in try JSONParser.parse(Array(written.utf8)) })
        require(reparsed == .success(value), "the value written as \(written) parses as \(reparsed)")
        require((try? JSONValue(parsing: written))?.jsonText == written, "writing is not stable for \(written)")
        return value
    default:
        require(false, "one parser accepts what the other refuses: \(plain) against \(spanned)")
        return nil
    }
}

/// How deep the deepest value lies (the top value at 0).
private func depth(_ value: JSONValue) -> Int {
    switch value {
    case .array(let elements): elements.map { depth($0) + 1 }.max() ?? 0
    case .object(let members): members.map { depth($0.value) + 1 }.max() ?? 0
    default: 0
    }
}

/// Numbers keep the JSON number grammar (RFC 8259 section 6); strings are what JSON can carry.
private func checkScalars(_ value: JSONValue) {
    switch value {
    case .number(let text): require(isJSONNumber(Array(text.utf8)), "number text '\(text)' is not a JSON number")
    case .array(let elements): elements.forEach(checkScalars)
    case .object(let members): members.forEach { checkScalars($0.value) }
    default: break
    }
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, written as a scan.
private func isJSONNumber(_ text: [UInt8]) -> Bool {
    var index = 0
    func digits() -> Int {
        let start = index
        while index < text.count, (0x30...0x39).contains(text[index]) { index += 1 }
        return index - start
    }
    if index < text.count, text[index] == 0x2D { index += 1 }
    guard index < text.count else { return false }
    if text[index] == 0x30 { index += 1 } else if digits() == 0 { return false }
    if index < text.count, text[index] == 0x2E {
        index += 1
        if digits() == 0 { return false }
    }
    if index < text.count, text[index] == 0x65 || text[index] == 0x45 {
        index += 1
        if index < text.count, text[index] == 0x2B || text[index] == 0x2D { index += 1 }
        if digits() == 0 { return false }
    }
    return index == text.count
}

// MARK: JSON-RPC

/// The decoding follows JSON-RPC 2.0 (checked from the parsed value), a decoded message encodes again to
/// itself, and the error answer to a refused message is a valid JSON-RPC response.
private func checkDecoding(_ data: [UInt8], parsed: JSONValue?) {
    let decoded = JSONRPCCodec.decode(bytes: data)
    switch decoded {
    case .failure(let failure):
        let code = failure.error.code
        if parsed == nil {
            require(code == JSONRPCError.parseErrorCode && failure.id == nil, "a JSON error answered with \(code)")
        } else {
            require(code == JSONRPCError.invalidRequestCode, "a refused message answered with \(code)")
        }
        if let id = failure.id { checkID(id) }
        // The answer the session sends back must itself decode as an error response to the same id.
        let answer = JSONRPCCodec.errorResponse(id: failure.id, error: failure.error)
        let reread = JSONRPCCodec.decode(answer)
        guard case .success(.response(let id, .error(let error))) = reread else {
            return require(false, "the error answer \(answer) does not decode as an error response: \(reread)")
        }
        require(id == failure.id && error == failure.error, "the error answer decodes to another id or error")
        return
    case .success(let message):
        guard let value = parsed, let members = value.objectMembers else { return require(false, "a message decoded from text that is not a JSON object") }
        let member = { (key: String) in members.last { $0.key == key }?.value }
        require(member("jsonrpc") == .string("2.0"), "a message without jsonrpc \"2.0\" accepted")
        let encoded: String
        switch message {
        case .request(let id, let method, let params):
            checkID(id)
            require(member("method") == .string(method), "request method differs from the text")
            require(member("id") == (try? JSONParser.parse(Array(id.rawJSON.utf8))), "request id differs from the text")
            checkParams(params, member("params"))
            encoded = JSONRPCCodec.request(id: id, method: method, params: params)
        case .notification(let method, let params):
            require(member("id") == nil, "a message with an id decoded as a notification")
            require(member("method") == .string(method), "notification method differs from the text")
            checkParams(params, member("params"))
            encoded = JSONRPCCodec.notification(method: method, params: params)
        case .response(let id, .result(let result, let rawJSON)):
            require(member("method") == nil, "a message with a method decoded as a response")
            if let id { checkID(id) } else { require(member("id") == .null, "a response without an id accepted") }
            require(member("result") == result, "response result differs from the text")
            require(Result(catching: { () throws(JSONParseError) in try JSONParser.parse(Array(rawJSON.utf8)) }) == .success(result),
                    "the raw result text \(rawJSON) is not the result")
            encoded = id.map { JSONRPCCodec.resultResponse(id: $0, rawResult: rawJSON) }
                ?? "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":\(rawJSON)}"
        case .response(let id, .error(let error)):
            require(member("method") == nil && member("result") == nil, "a message with a method or result decoded as an error")
            if let id { checkID(id) }
            require(member("error")?["code"]?.intValue == error.code, "error code differs from the text")
            encoded = JSONRPCCodec.errorResponse(id: id, error: error)
        }
        let again = JSONRPCCodec.decode(encoded)
        require(again == .success(message), "message re-encoded as \(encoded) decodes as \(again)")
    }
}

/// An id is the exact text of a JSON string or number, echoed verbatim in the answer.
private func checkID(_ id: JSONRPCID) {
    let value = Result(catching: { () throws(JSONParseError) in try JSONParser.parse(Array(id.rawJSON.utf8)) })
    switch value {
    case .success(.string): require(id.isString, "a string id not seen as a string")
    case .success(.number): require(!id.isString, "a number id seen as a string")
    default: require(false, "id text \(id.rawJSON) is not a JSON string or number")
    }
}

/// Params are what the text held, and only an object or an array.
private func checkParams(_ params: JSONValue?, _ text: JSONValue?) {
    require(params == text, "params differ from the text")
    if let params { require(params.isObject || params.arrayValue != nil, "params that are neither object nor array") }
}

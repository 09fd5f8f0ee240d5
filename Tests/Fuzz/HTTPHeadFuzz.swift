/// Fuzzes the HTTP/1.1 head parser and the client's check of the server's answer to the WebSocket opening
/// handshake: the bytes come from whatever answers at an endpoint's address (Xiaozhi, a proxy, anything).
///
/// Settings (see `FuzzInput`): bytes 0-2 are the lengths (each less one) of the
/// pieces the bytes arrive in. Everything after is
/// what the server sent.

/// Small, so that the fuzzer reaches the limit with short inputs.
private let headLimit = 200
/// The key of RFC 6455 section 1.3, whose accept value the RFC gives.
private let handshakeKey = "dGhlIHNhbXBsZSBub25jZQ=="
private let handshakeAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// The subprotocols the client offers; the server may pick one of them or none.
private let offeredProtocols = ["mcp", "chat"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPHead(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = FuzzInput(bytes, count: count, settingCount: 3)
    let pieces = FuzzInput.pieces(of: input.data, lengths: input.settings)
    checkResponseParsing(input.data, pieces: pieces)
    checkRequestParsing(input.data, pieces: pieces)
    checkClientHandshake(input.data, pieces: pieces)
    return 0
}

/// The offset just past the first CRLF CRLF, found independently of the parser.
private func headEnd(_ data: [UInt8]) -> Int? {
    guard data.count >= 4 else { return nil }
    return (0...(data.count - 4)).first { data[$0] == 0x0D && data[$0 + 1] == 0x0A && data[$0 + 2] == 0x0D && data[$0 + 3] == 0x0A }
        .map { $0 + 4 }
}

/// Feeds the pieces until the parser completes or fails; what followed a complete head (in its piece and
/// the pieces after) is returned with it, as the socket reader would hand it to the WebSocket connection.
private func feed<Head>(
    _ pieces: [[UInt8]], _ parse: ([UInt8]) throws(WebSocketHandshakeError) -> HTTPHeadParser.Result<Head>
) -> Result<(head: Head, rest: [UInt8])?, WebSocketHandshakeError> {
    for (index, piece) in pieces.enumerated() {
        switch Result(catching: { () throws(WebSocketHandshakeError) in try parse(piece) }) {
        case .failure(let error):
            return .failure(error)
        case .success(.needMoreBytes):
            continue
        case .success(.complete(let head, let remaining)):
            return .success((head, remaining + pieces[(index + 1)...].joined()))
        }
    }
    return .success(nil)
}

/// The rules every parsed head keeps, whatever the bytes.
private func checkHeaders(_ headers: HTTPHeaders) {
    for field in headers {
        require(!field.name.isEmpty, "a header with an empty name")
        require(!field.name.contains(where: { $0 == " " || $0 == "\t" || $0 == ":" }), "header name '\(field.name)' holds a separator")
        require(!field.name.contains("\r\n") && !field.value.contains("\r\n"), "a header holds a line break")
        require(field.value.trimmingWhitespace() == field.value, "header value is not trimmed")
    }
}

/// A head serialised again, as a peer would send it.
private func serialise(startLine: String, _ headers: HTTPHeaders) -> [UInt8] {
    var text = startLine + "\r\n"
    for field in headers { text += "\(field.name): \(field.value)\r\n" }
    return Array((text + "\r\n").utf8)
}

// MARK: Responses

private func checkResponseParsing(_ data: [UInt8], pieces: [[UInt8]]) {
    var whole = HTTPHeadParser(maxHeadSize: headLimit)
    let once = feed([data]) { (bytes) throws(WebSocketHandshakeError) in try whole.parseResponse(bytes) }
    var split = HTTPHeadParser(maxHeadSize: headLimit)
    let inPieces = feed(pieces) { (bytes) throws(WebSocketHandshakeError) in try split.parseResponse(bytes) }
    require(describe(once) == describe(inPieces), "pieces give \(describe(inPieces)), the whole input \(describe(once))")

    let end = headEnd(data)
    switch once {
    case .failure(.headTooLarge):
        require(end.map { $0 > headLimit } ?? (data.count > headLimit), "head refused as too large at \(data.count) bytes")
    case .failure:
        require(end.map { $0 <= headLimit } ?? false, "a malformed head reported before its end or past the limit")
    case .success(nil):
        require(end == nil && data.count <= headLimit, "no head reported from \(data.count) bytes with its end at \(String(describing: end))")
    case .success(let (head, rest)?):
        guard let end else { return require(false, "a head without a blank line") }
        require(end <= headLimit, "a head of \(end) bytes accepted over the limit of \(headLimit)")
        require(rest == Array(data[end...]), "the bytes after the head are not what followed the blank line")
        require((100...599).contains(head.status), "status \(head.status) accepted")
        require(head.version.hasPrefix("HTTP/1."), "version \(head.version) accepted")
        checkHeaders(head.headers)
        // The head as a server would send it parses to the same head.
        let startLine = "\(head.version) \(head.status) \(head.reason)"
        var again = HTTPHeadParser(maxHeadSize: 1 << 20)
        let reparsed = Result(catching: { () throws(WebSocketHandshakeError) in try again.parseResponse(serialise(startLine: startLine, head.headers)) })
        require(reparsed == .success(.complete(head, remainingBytes: [])), "head \(head) parses again as \(reparsed)")
    }
}

private func describe<Head>(_ result: Result<(head: Head, rest: [UInt8])?, WebSocketHandshakeError>) -> String {
    switch result {
    case .failure(let error): "failure(\(error))"
    case .success(nil): "needMoreBytes"
    case .success(let (head, rest)?): "complete(\(head), rest: \(hex(rest)))"
    }
}

// MARK: Requests

private func checkRequestParsing(_ data: [UInt8], pieces: [[UInt8]]) {
    var whole = HTTPHeadParser(maxHeadSize: headLimit)
    let once = feed([data]) { (bytes) throws(WebSocketHandshakeError) in try whole.parseRequest(bytes) }
    var split = HTTPHeadParser(maxHeadSize: headLimit)
    let inPieces = feed(pieces) { (bytes) throws(WebSocketHandshakeError) in try split.parseRequest(bytes) }
    require(describe(once) == describe(inPieces), "pieces give \(describe(inPieces)), the whole input \(describe(once))")
    guard case .success(let (head, _)?) = once else { return }
    require(!head.method.isEmpty && !head.target.isEmpty && head.version.hasPrefix("HTTP/1."), "a request line with an empty part")
    checkHeaders(head.headers)
    var again = HTTPHeadParser(maxHeadSize: 1 << 20)
    let line = "\(head.method) \(head.target) \(head.version)"
    let reparsed = Result(catching: { () throws(WebSocketHandshakeError) in try again.parseRequest(serialise(startLine: line, head.headers)) })
    require(reparsed == .success(.complete(head, remainingBytes: [])), "request \(head) parses again as \(reparsed)")
    // The query of a hostile target decodes without trapping, and the path never holds the query.
    _ = head.queryItems
    require(!head.path.contains("?"), "path keeps the query")
}

// MARK: The opening handshake

/// The client accepts exactly the answers RFC 6455 section 4.1 allows (checked here from the parsed head,
/// independently of the handshake's own code), and hands on exactly the bytes after the head.
private func checkClientHandshake(_ data: [UInt8], pieces: [[UInt8]]) {
    let url = try! WebSocketURL("ws://xiaozhi.example:8080/mcp/?token=fuzz")
    let extra: HTTPHeaders = ["Sec-WebSocket-Protocol": offeredProtocols.joined(separator: ", ")]
    var handshake = WebSocketClientHandshake(url: url, extraHeaders: extra, key: handshakeKey, maxHeadSize: headLimit)
    require(handshake.expectedAccept == handshakeAccept, "the accept value of RFC 6455's example key is wrong")

    var outcome: Result<(HTTPResponseHead, [UInt8])?, WebSocketHandshakeError> = .success(nil)
    for (index, piece) in pieces.enumerated() {
        let step = Result(catching: { () throws(WebSocketHandshakeError) in try handshake.receive(piece) })
        if case .failure(let error) = step {
            outcome = .failure(error)
            break
        }
        if case .success(.upgraded(let head, let remaining)) = step {
            outcome = .success((head, remaining + pieces[(index + 1)...].joined()))
            break
        }
    }

    // The same bytes through the bare parser: the handshake may refuse only what it parsed.
    var parser = HTTPHeadParser(maxHeadSize: headLimit)
    let parsed = feed([data]) { (bytes) throws(WebSocketHandshakeError) in try parser.parseResponse(bytes) }
    switch parsed {
    case .failure(let error):
        require(outcome.failure == error, "the parser fails with \(error), the handshake with \(describeHandshake(outcome))")
    case .success(nil):
        require(describeHandshake(outcome) == "needMoreBytes", "the handshake decided before the head was in: \(describeHandshake(outcome))")
    case .success(let (head, rest)?):
        let acceptable = isAcceptableUpgrade(head)
        switch outcome {
        case .success(let (upgraded, remaining)?):
            require(acceptable, "upgraded on an answer RFC 6455 refuses: \(upgraded)")
            require(upgraded == head && remaining == rest, "the upgrade reports another head or other bytes")
        case .failure(let error):
            require(!acceptable, "refused a valid upgrade answer with \(error)")
            if case .unexpectedStatus(let status, _) = error { require(status == head.status, "reported status \(status) for \(head.status)") }
            require(head.status != 101 || error.httpStatus == nil, "a 101 answer reported as a status failure")
        case .success(nil):
            require(false, "the handshake waits for more after a complete head")
        }
    }
}

/// RFC 6455 section 4.1, client side: 101, `Upgrade: websocket`, `Connection: Upgrade` (tokens, any case),
/// the accept value, no extension, and a subprotocol only when one offered was chosen.
private func isAcceptableUpgrade(_ head: HTTPResponseHead) -> Bool {
    func tokens(_ name: String) -> [String] {
        head.headers.fields.filter { $0.name.lowercased() == name.lowercased() }
            .flatMap { $0.value.split(separator: ",") }
            .map { $0.trimmingWhitespace().lowercased() }
    }
    func first(_ name: String) -> String? { head.headers.fields.first { $0.name.lowercased() == name.lowercased() }?.value }
    guard head.status == 101, tokens("Upgrade").contains("websocket"), tokens("Connection").contains("upgrade"),
        first("Sec-WebSocket-Accept") == handshakeAccept
    else { return false }
    if let extensions = first("Sec-WebSocket-Extensions"), !extensions.isEmpty { return false }
    if let chosen = first("Sec-WebSocket-Protocol"), !chosen.isEmpty { return offeredProtocols.contains(chosen) }
    return true
}

private func describeHandshake(_ outcome: Result<(HTTPResponseHead, [UInt8])?, WebSocketHandshakeError>) -> String {
    switch outcome {
    case .failure(let error): "failure(\(error))"
    case .success(nil): "needMoreBytes"
    case .success(let (head, rest)?): "upgraded(\(head), rest: \(hex(rest)))"
    }
}

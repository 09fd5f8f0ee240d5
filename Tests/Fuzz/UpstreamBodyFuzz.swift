import Foundation

/// Fuzzes how the pool reads an answer from a user's upstream MCP server over HTTP/1.1: the response head and
/// its framing, the body decoder (length, chunked, up to close) and the `text/event-stream` parser that the
/// streamable and legacy SSE transports feed the body to. The upstream is whatever a user configured, so
/// nothing it sends can be trusted.
///
/// Settings (see `FuzzInput`): byte 0 bit 0 picks the mode (0: a whole HTTP response, head then body;
/// 1: the bytes are an event stream on their own); byte 1 is the most body bytes one decoder step may return
/// (less one); bytes 2-4 are the lengths (each less one) of the pieces the bytes arrive in.

/// Small limits, so that the fuzzer reaches them with short inputs.
private let sseLineLimit = 48
private let sseEventLimit = 96

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUpstreamBody(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = FuzzInput(bytes, count: count, settingCount: 5)
    let pattern = Array(input.settings[2...4])
    let stepLimit = Int(input.setting(1)) + 1
    if input.flag(0, bit: 0) {
        checkEventStream(FuzzInput.pieces(of: input.data, lengths: pattern))
    } else {
        checkResponse(input.data, pattern: pattern, stepLimit: stepLimit)
    }
    return 0
}

// MARK: Head and body

private func checkResponse(_ data: [UInt8], pattern: [UInt8], stepLimit: Int) {
    guard let blank = (0..<max(0, data.count - 3)).first(where: { data[$0...].starts(with: [0x0D, 0x0A, 0x0D, 0x0A]) }) else {
        // No complete head: it must still parse or fail cleanly.
        _ = try? HTTPResponseHead(parsing: data[...]).framing()
        return
    }
    guard let head = try? HTTPResponseHead(parsing: data[..<blank]) else { return }
    checkHead(head)
    guard let framing = try? head.framing() else { return }
    checkFraming(framing, of: head)

    let body = Array(data[(blank + 4)...])
    let pieces = FuzzInput.pieces(of: body, lengths: pattern)
    let split = decode(pieces, framing: framing, stepLimit: stepLimit)
    let whole = decode([body], framing: framing, stepLimit: Int.max)
    require(split == whole, "the body decodes to \(split) in pieces, \(whole) at once")

    switch framing {
    case .none:
        require(whole == .complete([]), "a body decoded where none may be")
    case .length(let length):
        let want: DecodedBody = body.count >= length ? .complete(Array(body.prefix(length))) : .failed
        require(whole == want, "Content-Length \(length) over \(body.count) bytes gave \(whole)")
    case .untilClose:
        require(whole == .complete(body), "a body up to the close is not every byte")
    case .chunked:
        let want = ReferenceChunkedBody.decode(body).map(DecodedBody.complete) ?? .failed
        require(whole == want, "chunked body decoded as \(whole), the reference reads \(want)")
        if case .complete(let decoded) = whole {
            // The decoded body, chunked again, decodes to itself.
            let again = decode([chunked(decoded, lengths: pattern)], framing: .chunked, stepLimit: stepLimit)
            require(again == .complete(decoded), "re-chunked body decodes to \(again)")
        }
    }
    if case .complete(let decoded) = whole {
        checkEventStream(FuzzInput.pieces(of: decoded, lengths: pattern))
    }
}

/// What the head parser keeps, whatever the bytes.
private func checkHead(_ head: HTTPResponseHead) {
    require((100...999).contains(head.status), "status \(head.status) accepted")
    require(head.version.hasPrefix("HTTP/1."), "version \(head.version) accepted")
    for (name, value) in head.headers {
        require(!name.isEmpty && name == name.lowercased(), "header name '\(name)' is empty or not lower-cased")
        require(name.trimmingCharacters(in: .whitespaces) == name, "header name '\(name)' is not trimmed")
        require(value.trimmingCharacters(in: .whitespaces) == value || value.contains(", "), "header value is not trimmed")
    }
    let connection = (head.headers["connection"] ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    if connection.contains("close") { require(!head.keepsConnection, "keeps a connection the server closes") }
}

/// RFC 9112 section 6.3, checked from the head independently of `framing()`.
private func checkFraming(_ framing: HTTPResponseHead.Framing, of head: HTTPResponseHead) {
    if (100..<200).contains(head.status) || head.status == 204 || head.status == 304 {
        return require(framing == .none, "a \(head.status) answer given a body")
    }
    switch framing {
    case .none:
        require(false, "a \(head.status) answer without a body")
    case .chunked:
        let last = head.headers["transfer-encoding"]?.lowercased().split(separator: ",").last
        require(last?.trimmingCharacters(in: .whitespaces) == "chunked", "chunked framing without chunked coding last")
    case .length(let length):
        require(head.headers["transfer-encoding"] == nil, "Content-Length trusted beside Transfer-Encoding")
        let values = head.headers["content-length"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        require(!values.isEmpty && values.allSatisfy { $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && Int($0) == length },
                "length \(length) from Content-Length values \(values)")
    case .untilClose:
        require(head.headers["content-length"] == nil || head.headers["transfer-encoding"] != nil,
                "a Content-Length ignored without Transfer-Encoding")
    }
}

/// How a body read to the end of its bytes came out.
private enum DecodedBody: Equatable, CustomStringConvertible {
    /// The body ended (by its framing, or by the connection closing where that ends it).
    case complete([UInt8])
    /// The decoder refused the bytes, or the connection closed before the body ended.
    case failed

    var description: String {
        switch self {
        case .complete(let bytes): "complete(\(hex(bytes)))"
        case .failed: "failed"
        }
    }
}

/// Reads a body as `HTTPExchange` does: the decoder takes what it can from the connection's buffer, the
/// buffer grows by a piece whenever the decoder needs more, and the connection closes after the last piece.
private func decode(_ pieces: [[UInt8]], framing: HTTPResponseHead.Framing, stepLimit: Int) -> DecodedBody {
    var decoder = HTTPBodyDecoder(framing: framing)
    var buffer: [UInt8] = []
    var start = 0
    var next = 0
    var body: [UInt8] = []
    while true {
        let before = start
        let step: HTTPBodyDecoder.Step
        do { step = try decoder.next(buffer, start: &start, maximum: stepLimit) } catch { return .failed }
        require(start >= before && start <= buffer.count, "the decoder moved its start from \(before) to \(start) of \(buffer.count)")
        switch step {
        case .bytes(let piece):
            require(!piece.isEmpty && piece.count <= stepLimit, "a body step of \(piece.count) bytes (limit \(stepLimit))")
            body += piece
        case .end:
            require(decoder.isComplete, "the body ended but the decoder is not complete")
            return .complete(body)
        case .needMore:
            if next < pieces.count {
                buffer += pieces[next]
                next += 1
            } else {
                do { try decoder.finish() } catch { return .failed }
            }
        }
    }
}

/// `body` in chunked coding, chunks cut by `lengths`, with an extension and a trailer for good measure.
private func chunked(_ body: [UInt8], lengths: [UInt8]) -> [UInt8] {
    var wire: [UInt8] = []
    for piece in FuzzInput.pieces(of: body, lengths: lengths) {
        wire += Array("\(String(piece.count, radix: 16));x=1\r\n".utf8) + piece + [0x0D, 0x0A]
    }
    return wire + Array("0\r\nTrailer-Field: 1\r\n\r\n".utf8)
}

// MARK: Event stream

/// The parser, fed the pieces or everything at once, fails alike and yields the events a parser without
/// limits yields (up to the failure); every event keeps the limits; events written back out as a stream
/// parse to themselves.
private func checkEventStream(_ pieces: [[UInt8]]) {
    let split = parseEvents(pieces)
    let whole = parseEvents([Array(pieces.joined())])
    require(split.failure == whole.failure, "the stream fails with \(String(describing: split.failure)) when cut, \(String(describing: whole.failure)) whole")
    var unlimited = ServerSentEventParser()
    let all = Result(catching: { () throws(ServerSentEventLimitError) in try unlimited.feed(Array(pieces.joined())) })
    guard case .success(let allEvents) = all else { return require(false, "a parser without limits failed: \(all)") }
    let reference = ReferenceEventStream.parse(Array(pieces.joined()))
    require(allEvents == reference, "the stream parses as \(allEvents), the reference reads \(reference)")
    if whole.failure == nil {
        require(split.events == allEvents && whole.events == allEvents, "events differ when the stream is cut: \(split) against \(whole)")
    } else {
        // Every event completed before the failure is seen, however the stream was cut.
        require(split.events == whole.events && allEvents.starts(with: whole.events),
                "events before the failure differ: \(split.events) cut, \(whole.events) whole, the stream's \(allEvents)")
    }
    for event in split.events {
        require(event.data.utf8.count <= sseEventLimit, "an event of \(event.data.utf8.count) bytes over the limit")
        require(!event.type.isEmpty, "an event without a type")
        require(!(event.id ?? "").contains("\0"), "an id with NUL kept")
        for text in [event.type, event.data, event.id ?? ""] { require(!text.utf8.contains(0x0D), "a field holds a CR") }
        require(!event.type.utf8.contains(0x0A) && !(event.id ?? "").utf8.contains(0x0A), "a field name or id holds a LF")
    }
    var written: [UInt8] = []
    for event in split.events {
        var text = "event: \(event.type)\n"
        if let id = event.id { text += "id: \(id)\n" }
        for line in event.data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        written += Array((text + "\n").utf8)
    }
    var rereader = ServerSentEventParser()
    let reread = Result(catching: { () throws(ServerSentEventLimitError) in try rereader.feed(written) })
    require(reread == .success(split.events), "events written out parse as \(reread), not \(split.events)")
}

private func parseEvents(_ pieces: [[UInt8]]) -> (events: [ServerSentEvent], failure: ServerSentEventLimitError?) {
    var parser = ServerSentEventParser(maximumLineBytes: sseLineLimit, maximumEventBytes: sseEventLimit)
    var events: [ServerSentEvent] = []
    for (index, piece) in pieces.enumerated() {
        // Alternate the two entry points, as the transports use both.
        let fed = Result(catching: { () throws(ServerSentEventLimitError) in
            index % 2 == 0 ? try parser.feed(piece) : try parser.feed(Data(piece))
        })
        // A feed that completed events before a limit returns them and leaves the failure in `failure`,
        // as the transports read it.
        var outcome = fed
        if case .success(let more) = fed, let failed = parser.failure {
            events += more
            outcome = .failure(failed)
        }
        switch outcome {
        case .success(let more):
            events += more
        case .failure(let error):
            // A failed stream stays failed.
            let after = Result(catching: { () throws(ServerSentEventLimitError) in try parser.feed(Array("data: x\n\n".utf8)) })
            require(after == .failure(error), "the stream went on after failing: \(after)")
            return (events, error)
        }
    }
    return (events, nil)
}

import WebSocket

/// Reads one HTTP/1.x request from a connection's bytes as they arrive: the head, then exactly Content-Length
/// bytes of body. It decides every refusal from the bytes alone (400, 413, 431, 501), so that the connection
/// around it only moves bytes and keeps time. Chunked request bodies are not read.
struct HTTPRequestReader: Sendable {
    /// What the bytes so far amount to.
    enum Progress: Sendable, Hashable {
        case needMoreBytes
        /// The head asked `Expect: 100-continue` and its body is acceptable: send `100 Continue`, then read on.
        case sendContinue
        /// The whole request. Bytes after the body (a pipelined request) are ignored: one request a connection.
        case request(HTTPRequestHead, body: [UInt8])
        /// Answer with `status` and `reason` as a plain-text body, then close. The reason never quotes the request.
        case refusal(status: Int, reason: String)
    }

    private enum State: Sendable {
        case head(HTTPHeadParser)
        case body(HTTPRequestHead, expected: Int, received: [UInt8])
        /// A request or a refusal was returned; the reader is spent.
        case done(Progress)
    }

    let maxHeadBytes: Int
    let maxBodyBytes: Int
    private var state: State

    init(maxHeadBytes: Int, maxBodyBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        state = .head(HTTPHeadParser(maxHeadSize: maxHeadBytes))
    }

    init(limits: HTTPServerLimits) {
        self.init(maxHeadBytes: limits.maxHeadBytes, maxBodyBytes: limits.maxBodyBytes)
    }

    /// Whether a request or a refusal has been returned (more bytes change nothing then).
    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Takes the next bytes from the connection. Once a request or refusal is returned, it is returned again.
    mutating func read(_ bytes: some Collection<UInt8>) -> Progress {
        switch state {
        case .head(var parser):
            let parsed: HTTPHeadParser.Result<HTTPRequestHead>
            do {
                parsed = try parser.parseRequest(bytes)
            } catch {
                if case .headTooLarge(let limit) = error {
                    return finish(.refusal(status: 431, reason: "request head larger than \(limit) bytes"))
                }
                return finish(.refusal(status: 400, reason: "malformed request head"))
            }
            switch parsed {
            case .needMoreBytes:
                state = .head(parser)
                return .needMoreBytes
            case .complete(let head, let remaining):
                return headArrived(head, remaining: remaining)
            }
        case .body(let head, let expected, var received):
            state = .done(.needMoreBytes)  // not a copy of `received` in `state` while it grows
            received.append(contentsOf: bytes.prefix(expected - received.count))
            if received.count == expected { return finish(.request(head, body: received)) }
            state = .body(head, expected: expected, received: received)
            return .needMoreBytes
        case .done(let progress):
            return progress
        }
    }

    private mutating func headArrived(_ head: HTTPRequestHead, remaining: [UInt8]) -> Progress {
        if let refusal = Self.refusal(of: head) { return finish(refusal) }
        let length: Int
        switch Self.contentLength(of: head.headers) {
        case .invalid: return finish(.refusal(status: 400, reason: "invalid Content-Length"))
        case .tooLarge: return finish(.refusal(status: 413, reason: "request body larger than \(maxBodyBytes) bytes"))
        case .length(let value): length = value
        }
        guard length <= maxBodyBytes else {
            return finish(.refusal(status: 413, reason: "request body larger than \(maxBodyBytes) bytes"))
        }
        if remaining.count >= length { return finish(.request(head, body: Array(remaining.prefix(length)))) }
        var received = remaining
        received.reserveCapacity(length)
        state = .body(head, expected: length, received: received)
        let expectsContinue = head.version == "HTTP/1.1" && head.headers.containsToken("100-continue", in: "Expect")
        return expectsContinue && remaining.isEmpty ? .sendContinue : .needMoreBytes
    }

    private mutating func finish(_ progress: Progress) -> Progress {
        state = .done(progress)
        return progress
    }

    /// The rules on the head itself: the version, the method and target, no Transfer-Encoding.
    private static func refusal(of head: HTTPRequestHead) -> Progress? {
        guard head.version == "HTTP/1.1" || head.version == "HTTP/1.0" else {
            return .refusal(status: 400, reason: "unsupported HTTP version")
        }
        guard head.method.utf8.allSatisfy(isTokenByte) else { return .refusal(status: 400, reason: "invalid method") }
        guard head.target.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            return .refusal(status: 400, reason: "invalid request target")
        }
        // A body framed by chunks (or anything but Content-Length) is not read; answering as if there were
        // none would leave its bytes to be taken for something else.
        if !head.headers.values("Transfer-Encoding").isEmpty {
            return .refusal(status: 501, reason: "Transfer-Encoding is not supported; send Content-Length")
        }
        return nil
    }

    private enum ContentLength { case length(Int), tooLarge, invalid }

    /// Content-Length as RFC 9112 §6.3 allows it: digits, repeated only with the same value.
    private static func contentLength(of headers: HTTPHeaders) -> ContentLength {
        let values = headers.values("Content-Length").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map(trimmed)
        guard let first = values.first else { return .length(0) }
        guard values.allSatisfy({ $0 == first }), !first.isEmpty,
              first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return .invalid }
        guard let value = Int(first) else { return .tooLarge }
        return .length(value)
    }

    private static func trimmed(_ text: Substring) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = text.firstIndex(where: { !blank($0) }), let end = text.lastIndex(where: { !blank($0) }) else { return "" }
        return String(text[start...end])
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

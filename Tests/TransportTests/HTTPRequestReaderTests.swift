import Testing
import WebSocket
@testable import Transport

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Feeds `text` whole and returns the last progress.
private func read(_ text: String, maxHeadBytes: Int = 1024, maxBodyBytes: Int = 100) -> HTTPRequestReader.Progress {
    var reader = HTTPRequestReader(maxHeadBytes: maxHeadBytes, maxBodyBytes: maxBodyBytes)
    return reader.read(bytes(text))
}

private func status(_ progress: HTTPRequestReader.Progress) -> Int? {
    if case .refusal(let status, _) = progress { return status }
    return nil
}

@Suite("Reading one HTTP request from a connection's bytes")
struct HTTPRequestReaderTests {
    @Test("a head and body fed one byte at a time make one request")
    func bytewise() {
        var reader = HTTPRequestReader(maxHeadBytes: 1024, maxBodyBytes: 100)
        let all = bytes("POST /jobs?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        var results: [HTTPRequestReader.Progress] = []
        for byte in all { results.append(reader.read([byte])) }
        #expect(results.dropLast().allSatisfy { $0 == .needMoreBytes })
        guard case .request(let head, let body) = results.last else {
            Issue.record("no request: \(String(describing: results.last))")
            return
        }
        #expect(head.method == "POST")
        #expect(head.target == "/jobs?x=1")
        #expect(head.headers["host"] == "a")
        #expect(body == bytes("hello"))
    }

    @Test("a body arriving over several reads completes at its Content-Length; bytes after it are ignored")
    func bodyAcrossReads() {
        var reader = HTTPRequestReader(maxHeadBytes: 1024, maxBodyBytes: 100)
        #expect(reader.read(bytes("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123")) == .needMoreBytes)
        #expect(reader.read(bytes("456")) == .needMoreBytes)
        let last = reader.read(bytes("789GET / HTTP/1.1\r\n\r\n"))
        #expect(last == .request(HTTPRequestHead(method: "PUT", target: "/", headers: ["Content-Length": "10"]), body: bytes("0123456789")))
    }

    @Test("a request without Content-Length has an empty body and completes at the blank line")
    func noBody() {
        #expect(read("GET /status HTTP/1.0\r\n\r\n") == .request(HTTPRequestHead(method: "GET", target: "/status", version: "HTTP/1.0"), body: []))
    }

    @Test("a head past the limit is refused with 431, whether its blank line came or not")
    func headTooLarge() {
        let long = "GET / HTTP/1.1\r\nX-Filler: " + String(repeating: "a", count: 200) + "\r\n"
        #expect(status(read(long, maxHeadBytes: 100)) == 431)
        #expect(status(read(long + "\r\n", maxHeadBytes: 100)) == 431)
    }

    @Test("a Content-Length past the body limit is refused with 413 before any body is read")
    func bodyTooLarge() {
        #expect(status(read("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n")) == 413)
        #expect(status(read("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n")) == 413)
        if case .request = read("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + String(repeating: "b", count: 100)) {} else {
            Issue.record("a body at the limit was refused")
        }
    }

    @Test("any Transfer-Encoding is refused with 501")
    func transferEncoding() {
        #expect(status(read("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")) == 501)
        #expect(status(read("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: identity\r\n\r\nabc")) == 501)
    }

    @Test("a Content-Length that is not one decimal number is refused with 400", arguments: [
        "abc", "-1", "+5", "1 2", "", "1, 2", "0x10",
    ])
    func badContentLength(value: String) {
        #expect(status(read("POST / HTTP/1.1\r\nContent-Length: \(value)\r\n\r\n")) == 400)
    }

    @Test("Content-Length repeated with one value is accepted; with two values it is refused")
    func repeatedContentLength() {
        #expect(status(read("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")) == nil)
        #expect(status(read("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nok")) == nil)
        #expect(status(read("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")) == 400)
    }

    @Test("versions other than HTTP/1.0 and HTTP/1.1 are refused with 400", arguments: [
        "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1x", "http/1.1",
    ])
    func unsupportedVersion(version: String) {
        #expect(status(read("GET / \(version)\r\n\r\n")) == 400)
    }

    @Test("malformed heads are refused with 400", arguments: [
        "GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "\r\n\r\n", "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET /\u{01} HTTP/1.1\r\n\r\n",
    ])
    func malformed(head: String) {
        #expect(status(read(head)) == 400)
    }

    @Test("Expect: 100-continue asks for 100 Continue before the body, then reads it")
    func expectContinue() {
        var reader = HTTPRequestReader(maxHeadBytes: 1024, maxBodyBytes: 100)
        #expect(reader.read(bytes("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")) == .sendContinue)
        guard case .request(_, let body) = reader.read(bytes("hi")) else {
            Issue.record("no request after the body")
            return
        }
        #expect(body == bytes("hi"))
    }

    @Test("once it has refused, the reader keeps its answer whatever comes next")
    func doneAfterRefusal() {
        var reader = HTTPRequestReader(maxHeadBytes: 1024, maxBodyBytes: 100)
        let refusal = reader.read(bytes("GET / HTTP/3\r\n\r\n"))
        #expect(status(refusal) == 400)
        #expect(reader.isDone)
        #expect(reader.read(bytes("GET / HTTP/1.1\r\n\r\n")) == refusal)
    }

    @Test("a refusal's reason never quotes the request target")
    func reasonOmitsTarget() {
        let secret = "token-s3cr3t"
        for text in ["GET /?t=\(secret) HTTP/1.2\r\n\r\n", "POST /?t=\(secret) HTTP/1.1\r\nContent-Length: 500\r\n\r\n",
                     "POST /?t=\(secret) HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"] {
            if case .refusal(_, let reason) = read(text) { #expect(!reason.contains(secret)) } else { Issue.record("not refused") }
        }
    }
}

@Suite("Encoding the server's responses")
struct HTTPResponseEncoderTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("a response gets its Content-Length and Connection: close, replacing the handler's")
    func framingHeaders() {
        let response = HTTPResponse(status: 200, headers: ["Content-Length": "99", "Connection": "keep-alive", "X-A": "1"], body: bytes("abc"))
        #expect(text(HTTPResponseEncoder.encode(response, headOnly: false))
            == "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    }

    @Test("a HEAD answer has the head with the body's length and no body")
    func headOnly() {
        let response = HTTPResponse(status: 404, contentType: "text/plain", text: "missing")
        #expect(text(HTTPResponseEncoder.encode(response, headOnly: true))
            == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\n")
    }

    @Test("204 carries no Content-Length and no body")
    func noContent() {
        #expect(text(HTTPResponseEncoder.encode(HTTPResponse(status: 204, body: bytes("x")), headOnly: false))
            == "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    }

    @Test("a header with a line break in it is dropped, not sent as two lines")
    func noInjection() {
        let response = HTTPResponse(status: 303, headers: ["Location": "/a\r\nSet-Cookie: x=1", "X-Ok": "yes"])
        #expect(text(HTTPResponseEncoder.encode(response, headOnly: false))
            == "HTTP/1.1 303 See Other\r\nX-Ok: yes\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    @Test("a stream's head has no Content-Length")
    func streamHead() {
        #expect(text(HTTPResponseEncoder.streamHead(status: 200, headers: ["Content-Type": "text/event-stream"]))
            == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
    }

    @Test("the common statuses have their standard reason phrases")
    func reasonPhrases() {
        let expected: [Int: String] = [
            200: "OK", 204: "No Content", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
            415: "Unsupported Media Type", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
        ]
        for (status, phrase) in expected { #expect(HTTPStatus.reasonPhrase(status) == phrase) }
    }
}

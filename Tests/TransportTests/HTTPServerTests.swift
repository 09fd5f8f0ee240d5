import Foundation
import Testing
import WebSocket
@testable import Transport

/// A server on 127.0.0.1, an ephemeral port, with `limits` and `handler`.
private func makeServer(_ group: EventLoopGroup, limits: HTTPServerLimits = HTTPServerLimits(),
                        handler: @escaping @Sendable (HTTPRequest) async -> HTTPReply) throws -> HTTPServer {
    try HTTPServer(host: "127.0.0.1", port: 0, group: group, limits: limits, handler: handler)
}

/// Connects a raw client on a dedicated thread and sends `request`.
private func openClient(port: Int, sending request: String = "", receiveTimeout: Duration = .seconds(30)) async throws -> RawHTTPClient {
    try await onDedicatedThread {
        let client = try RawHTTPClient(port: port, receiveTimeout: receiveTimeout)
        if !request.isEmpty { client.send(request) }
        return client
    }
}

/// A producer of server-sent events: one every 20 ms until the writer refuses; then it records when.
private func ticking(stoppedAt: Locked<ContinuousClock.Instant?>) -> @Sendable (HTTPBodyWriter) async -> Void {
    { writer in
        var n = 0
        while writer.write(Array("data: \(n)\n\n".utf8)) {
            n += 1
            try? await Task.sleep(for: .milliseconds(20))
        }
        stoppedAt.update { $0 = .now }
    }
}

private func eventCount(_ bytes: [UInt8]) -> Int {
    String(decoding: bytes, as: UTF8.self).components(separatedBy: "data: ").count - 1
}

@Suite("The HTTP/1.1 server on the event loop")
struct HTTPServerTests {
    @Test("a GET is answered with the handler's response, its length and Connection: close")
    func getAnswered() async throws {
        let group = try EventLoopGroup(threads: 2)
        defer { group.shutdown() }
        let seen = Locked<[String]>([])
        let server = try makeServer(group) { request in
            seen.update { $0.append("\(request.head.method) \(request.head.path) \(request.peerHost)") }
            return .response(HTTPResponse(status: 200, contentType: "text/plain; charset=utf-8", text: "hello"))
        }
        defer { server.close() }
        let response = try await exchange(port: server.port, "GET /status?token=t HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.text == "hello")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("Content-Length") == "5")
        #expect(response.header("Connection") == "close")
        #expect(seen.value == ["GET /status 127.0.0.1"])
        #expect(await eventually { server.openConnections == 0 })
    }

    @Test("a POST body sent in pieces reaches the handler whole and is echoed")
    func postEchoed() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = try makeServer(group) { request in
            .response(HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"], body: request.body))
        }
        defer { server.close() }
        let body = (0..<60_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let port = server.port
        let received: [UInt8] = try await onDedicatedThread {
            let client = try RawHTTPClient(port: port)
            defer { client.close() }
            client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.count)\r\n\r\n")
            client.send(Array(body[..<1000]))
            Thread.sleep(forTimeInterval: 0.05)
            client.send(Array(body[1000...]))
            return client.readToEnd().bytes
        }
        let response = try #require(ReceivedResponse(received))
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == String(body.count))
        #expect(response.body == body)
    }

    @Test("Expect: 100-continue gets 100 Continue before the body is sent")
    func expectContinue() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = try makeServer(group) { request in .response(HTTPResponse(status: 200, body: request.body)) }
        defer { server.close() }
        let port = server.port
        let (interim, final): ([UInt8], [UInt8]) = try await onDedicatedThread {
            let client = try RawHTTPClient(port: port)
            defer { client.close() }
            client.send("PUT /x HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            let interim = client.read { $0.count >= 25 }
            client.send("body")
            return (interim, client.readToEnd().bytes)
        }
        #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(ReceivedResponse(final)?.text == "body")
    }

    @Test("a HEAD request gets the head with the body's length, and no body")
    func headGetsNoBody() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = try makeServer(group) { _ in .response(HTTPResponse(status: 200, contentType: "text/plain", text: "hello")) }
        defer { server.close() }
        let response = try await exchange(port: server.port, "HEAD / HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == "5")
        #expect(response.body.isEmpty)
    }

    @Test("refused requests get their status as plain text and never reach the handler", arguments: [
        ("GET / HTTP/1.1\r\nHost: test\r\nX-Filler: " + String(repeating: "a", count: 20_000) + "\r\n\r\n", 431),
        ("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "b", count: 5000), 413),
        ("POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501),
        ("GET / HTTP/1.2\r\nHost: test\r\n\r\n", 400),
        ("hello there\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
    ])
    func refusals(request: String, status: Int) async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let calls = Locked(0)
        let server = try makeServer(group) { _ in
            calls.update { $0 += 1 }
            return .response(HTTPResponse(status: 200))
        }
        defer { server.close() }
        let response = try await exchange(port: server.port, request)
        #expect(response.status == status)
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("Connection") == "close")
        #expect(!response.body.isEmpty)
        #expect(calls.value == 0)
    }

    @Test("a client that sends half a head and stalls gets 408 and is closed")
    func stalledClientGets408() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = try makeServer(group, limits: HTTPServerLimits(requestTimeout: .milliseconds(200))) { _ in
            .response(HTTPResponse(status: 200))
        }
        defer { server.close() }
        let response = try await exchange(port: server.port, "GET /slow HTTP/1.1\r\nHost: te")
        #expect(response.status == 408)
        #expect(await eventually { server.openConnections == 0 })
    }

    @Test("past maxConnections the oldest connection still sending its head gives way, and the new one is served")
    func maxConnections() async throws {
        let group = try EventLoopGroup(threads: 2)
        defer { group.shutdown() }
        let server = try makeServer(group, limits: HTTPServerLimits(maxConnections: 2)) { _ in
            .response(HTTPResponse(status: 204))
        }
        defer { server.close() }
        let first = try await openClient(port: server.port)
        #expect(await eventually { server.openConnections == 1 })
        let second = try await openClient(port: server.port)
        defer { first.close(); second.close() }
        #expect(await eventually { server.openConnections == 2 })
        // Full of idle clients: the newest is served, the oldest idle one is closed for it.
        let answer = try await exchange(port: server.port, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(answer.status == 204)
        let firstSaw: [UInt8]? = try await onDedicatedThread { first.readSome() }
        #expect(firstSaw == [], "the oldest idle connection gave way")
        // The second idle one was kept and is still served.
        let kept: [UInt8] = try await onDedicatedThread {
            second.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            return second.readToEnd().bytes
        }
        #expect(ReceivedResponse(kept)?.status == 204)
        #expect(await eventually { server.openConnections == 0 })
    }

    @Test("a handler slower than responseTimeout is answered for with 503")
    func slowHandlerGets503() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = try makeServer(group, limits: HTTPServerLimits(responseTimeout: .milliseconds(200))) { _ in
            try? await Task.sleep(for: .seconds(2))
            return .response(HTTPResponse(status: 200, contentType: "text/plain", text: "too late"))
        }
        defer { server.close() }
        let response = try await exchange(port: server.port, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(response.status == 503)
        #expect(!response.text.contains("too late"))
    }

    @Test("a response the client does not take within writeTimeout closes the connection")
    func unreadResponseClosed() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let big = [UInt8](repeating: 0x61, count: 48 << 20)
        let server = try makeServer(group, limits: HTTPServerLimits(writeTimeout: .milliseconds(300))) { _ in
            .response(HTTPResponse(status: 200, body: big))
        }
        defer { server.close() }
        let client = try await openClient(port: server.port, sending: "GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
        defer { client.close() }
        #expect(await eventually { server.openConnections == 1 })
        #expect(await eventually { server.openConnections == 0 })
    }

    @Test("a stream delivers its chunks; when the client closes, the producer's write fails within a second")
    func streamUntilClientCloses() async throws {
        let group = try EventLoopGroup(threads: 2)
        defer { group.shutdown() }
        let stoppedAt = Locked<ContinuousClock.Instant?>(nil)
        let writerSeen = Locked<HTTPBodyWriter?>(nil)
        let server = try makeServer(group) { _ in
            .stream(status: 200, headers: ["Content-Type": "text/event-stream"]) { writer in
                writerSeen.update { $0 = writer }
                await ticking(stoppedAt: stoppedAt)(writer)
            }
        }
        defer { server.close() }
        let port = server.port
        // Watched from this thread, not from a task: a busy cooperative pool must not be what is timed.
        let (received, refusedInTime): ([UInt8], Bool) = try await onDedicatedThread {
            let client = try RawHTTPClient(port: port)
            client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
            let received = client.read { eventCount($0) >= 4 }
            client.close()
            let deadline = ContinuousClock.now + .seconds(1)
            var refused = false
            while !refused && ContinuousClock.now < deadline {
                refused = writerSeen.value?.write(Array("data: late\n\n".utf8)) == false
                if !refused { Thread.sleep(forTimeInterval: 0.005) }
            }
            return (received, refused)
        }
        let response = try #require(ReceivedResponse(received))
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        #expect(response.header("Content-Length") == nil)
        #expect(response.header("Connection") == "close")
        #expect(response.text.hasPrefix("data: 0\n\ndata: 1\n\ndata: 2\n\n"))
        #expect(refusedInTime)
        #expect(await eventually { stoppedAt.value != nil })
        #expect(await eventually { server.openConnections == 0 })
    }

    @Test("close() ends a running stream: the client sees the end and the producer's write fails")
    func closeEndsStream() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let stoppedAt = Locked<ContinuousClock.Instant?>(nil)
        let server = try makeServer(group) { _ in
            .stream(status: 200, headers: ["Content-Type": "text/event-stream"], produce: ticking(stoppedAt: stoppedAt))
        }
        defer { server.close() }
        let client = try await openClient(port: server.port, sending: "GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        defer { client.close() }
        let first: [UInt8] = try await onDedicatedThread { client.read { eventCount($0) >= 1 } }
        #expect(eventCount(first) >= 1)
        server.close()
        #expect(server.openConnections == 0)
        let (_, closed) = try await onDedicatedThread { client.readToEnd() }
        #expect(closed)
        #expect(await eventually { stoppedAt.value != nil })
        server.close()
    }

    @Test("a stream whose client stops reading is closed once its unsent bytes pass the limit")
    func slowReaderStreamClosed() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let outcome = Locked<(refused: Bool, writerClosed: Bool)?>(nil)
        let server = try makeServer(group, limits: HTTPServerLimits(maxStreamBufferedBytes: 64 * 1024)) { _ in
            .stream(status: 200, headers: HTTPHeaders()) { writer in
                let chunk = [UInt8](repeating: 0x62, count: 16 * 1024)
                var written = 0
                var refused = false
                while written < 1 << 30 {
                    guard writer.write(chunk) else {
                        refused = true
                        break
                    }
                    written += chunk.count
                    // Paced so that a reading client would keep up: what fills up is the client's not reading.
                    try? await Task.sleep(for: .milliseconds(1))
                }
                outcome.update { $0 = (refused, writer.isClosed) }
            }
        }
        defer { server.close() }
        let client = try await openClient(port: server.port, sending: "GET /firehose HTTP/1.1\r\nHost: test\r\n\r\n")
        defer { client.close() }
        #expect(await eventually(within: .seconds(20)) { outcome.value != nil })
        #expect(outcome.value?.refused == true)
        #expect(outcome.value?.writerClosed == true)
        #expect(await eventually { server.openConnections == 0 })
    }

    @Test("a HEAD request for a stream gets the head only and the producer never runs")
    func headOfStream() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let ran = Locked(false)
        let server = try makeServer(group) { _ in
            .stream(status: 200, headers: ["Content-Type": "text/event-stream"]) { _ in ran.update { $0 = true } }
        }
        defer { server.close() }
        let response = try await exchange(port: server.port, "HEAD /events HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(!ran.value)
    }

    @Test("after close() the port refuses new connections")
    func closeStopsAccepting() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = try makeServer(group) { _ in .response(HTTPResponse(status: 200)) }
        let port = server.port
        server.close()
        server.close()
        #expect(throws: (any Error).self) { try RawHTTPClient(port: port) }
    }
}

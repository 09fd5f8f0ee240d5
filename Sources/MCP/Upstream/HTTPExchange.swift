import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Transport

/// One request and its response, read on demand: the head, then the body a piece at a time, each
/// read done on the connection's thread when the reader asks for it. The body's bounds
/// (`HTTPStreamLimits`) are enforced as it is read; past one, or when the reader gives up, the
/// connection is closed. A response read to its end hands its connection back to the pool.
final class HTTPExchange: @unchecked Sendable {
    // @unchecked: the parsing state below is touched only by jobs on the connection's thread (one at
    // a time, each awaited before the next starts); `connection` and `cancelled` are guarded by `shared`.
    private struct Shared {
        var connection: HTTP1Connection?
        var cancelled = false
        var finished = false
    }

    private enum Phase { case start, body, done }

    private let origin: HTTPOrigin?
    private let requestBytes: [UInt8]
    private let headTimeout: Duration
    private let limits: HTTPStreamLimits
    private let pool: HTTPConnectionPool
    private let tls: TLSConfiguration
    private let shared = Mutex(Shared())
    private var phase = Phase.start
    private var decoder = HTTPBodyDecoder(framing: .none)
    private var keepsConnection = false
    private var received = 0

    /// The largest response head accepted.
    static let maximumHeadBytes = 64 << 10

    init(request: URLRequest, limits: HTTPStreamLimits, pool: HTTPConnectionPool, tls: TLSConfiguration) {
        let url = request.url
        origin = url.flatMap(HTTPOrigin.init(url:))
        requestBytes = origin.map { Self.serialize(request, origin: $0) } ?? []
        headTimeout = .milliseconds(Int64(max(1, request.timeoutInterval) * 1000))
        self.limits = limits
        self.pool = pool
        self.tls = tls
    }

    deinit {
        // Abandoned before its end: the rest of the body is unread, so the connection cannot be reused.
        let connection = shared.withLock { $0.finished ? nil : $0.connection }
        connection?.close()
    }

    /// The next event: the head first, then body pieces; nil once the body has ended.
    func next() async throws -> HTTPStreamEvent? {
        switch phase {
        case .done:
            return nil
        case .start:
            guard let origin else { throw HTTPTransportError(kind: .unreachable, detail: "not an http(s) URL") }
            let connection = pool.checkout(origin) ?? HTTP1Connection(origin: origin)
            let cancelledAlready = shared.withLock { shared in
                shared.connection = connection
                return shared.cancelled
            }
            if cancelledAlready {
                connection.close()
                throw HTTPTransportError(kind: .cancelled, detail: "cancelled")
            }
            let head = try await run(connection) { try self.sendAndReadHead(connection) }
            phase = .body
            return .head(status: head.status, headers: head.headers)
        case .body:
            guard let connection = shared.withLock({ $0.connection }) else { return nil }
            guard let piece = try await run(connection, { try self.readBody(connection) }) else {
                phase = .done
                shared.withLock { $0.finished = true }
                if keepsConnection { pool.checkin(connection) } else { connection.close() }
                return nil
            }
            return .body(piece)
        }
    }

    /// Runs a blocking step on the connection's thread; cancelling the caller closes the connection,
    /// which ends the step at once.
    private func run<T: Sendable>(_ connection: HTTP1Connection, _ step: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await withTaskCancellationHandler {
                try await connection.thread.run(closedError: HTTPTransportError(kind: .cancelled, detail: "cancelled"), step)
            } onCancel: {
                shared.withLock { $0.cancelled = true }
                connection.close()
            }
        } catch {
            phase = .done
            connection.close()
            if shared.withLock({ $0.cancelled }) { throw HTTPTransportError(kind: .cancelled, detail: "cancelled") }
            throw error
        }
    }

    // MARK: - On the connection's thread

    private func sendAndReadHead(_ connection: HTTP1Connection) throws -> HTTPResponseHead {
        let streams = try connection.connectedStreams(tls: tls, timeout: min(headTimeout, .seconds(30)))
        connection.requestsSent += 1
        streams.output.blockingTimeout = headTimeout
        guard streams.output.write(requestBytes) == requestBytes.count else {
            throw HTTPTransportError(kind: .other, detail: "connection lost while sending the request")
        }
        while true {
            let head = try readHead(connection, streams)
            // Interim answers (100 Continue, 103 Early Hints) are skipped; a 101 switch is not asked for.
            if (100..<200).contains(head.status), head.status != 101 { continue }
            let framing: HTTPResponseHead.Framing
            do { framing = try head.framing() } catch {
                throw HTTPTransportError(kind: .other, detail: "bad HTTP response (\(error.description))")
            }
            decoder = HTTPBodyDecoder(framing: framing)
            keepsConnection = head.keepsConnection && framing != .untilClose && head.status != 101
            return head
        }
    }

    private func readHead(_ connection: HTTP1Connection, _ streams: SocketStreams) throws -> HTTPResponseHead {
        // Bytes after `start` already known not to hold the blank line ending the head.
        var scanned = 0
        while true {
            let base = connection.start
            let end: Int? = connection.buffer.withUnsafeBufferPointer { buffer in
                var index = base + max(0, scanned - 3)
                while index + 3 < buffer.count {
                    if buffer[index] == 0x0D, buffer[index + 1] == 0x0A, buffer[index + 2] == 0x0D, buffer[index + 3] == 0x0A { return index }
                    index += 1
                }
                return nil
            }
            if let end {
                connection.start = end + 4
                do { return try HTTPResponseHead(parsing: connection.buffer[base..<end]) } catch {
                    throw HTTPTransportError(kind: .other, detail: "bad HTTP response (\(error.description))")
                }
            }
            scanned = connection.buffer.count - base
            guard scanned <= Self.maximumHeadBytes else {
                throw HTTPTransportError(kind: .tooLarge, detail: "response head larger than \(Self.maximumHeadBytes) bytes")
            }
            let more: Bool
            do { more = try connection.readMore(streams, timeout: headTimeout) } catch {
                throw Self.readFailure(error, beforeHead: true, headTimeout: headTimeout, idleTimeout: limits.idleTimeout)
            }
            guard more else { throw HTTPTransportError(kind: .other, detail: "connection lost before the answer") }
        }
    }

    private func readBody(_ connection: HTTP1Connection) throws -> Data? {
        let streams = try connection.connectedStreams(tls: tls, timeout: headTimeout)
        while true {
            let step: HTTPBodyDecoder.Step
            do { step = try decoder.next(connection.buffer, start: &connection.start, maximum: HTTP1Connection.readSize) } catch {
                throw HTTPTransportError(kind: .other, detail: "bad HTTP response (\(error.description))")
            }
            switch step {
            case .bytes(let piece):
                received += piece.count
                if let maximum = limits.maximumBodyBytes, received > maximum {
                    throw HTTPTransportError(kind: .tooLarge, detail: "answer larger than the limit of \(maximum) bytes")
                }
                return piece
            case .end:
                if connection.start < connection.buffer.count { keepsConnection = false }
                return nil
            case .needMore:
                let more: Bool
                do { more = try connection.readMore(streams, timeout: limits.idleTimeout) } catch {
                    throw Self.readFailure(error, beforeHead: false, headTimeout: headTimeout, idleTimeout: limits.idleTimeout)
                }
                if !more {
                    keepsConnection = false
                    do { try decoder.finish() } catch { throw HTTPTransportError(kind: .other, detail: "connection lost (\(error.description))") }
                }
            }
        }
    }

    private static func readFailure(_ error: TransportError, beforeHead: Bool, headTimeout: Duration, idleTimeout: Duration) -> HTTPTransportError {
        switch error {
        case .timeout(.silence, _, _):
            return beforeHead
                ? HTTPTransportError(kind: .timedOut, detail: "no answer within \(headTimeout)")
                : HTTPTransportError(kind: .idle, detail: "sent nothing for \(idleTimeout)")
        case .tlsFailure:
            return HTTPTransportError(kind: .other, detail: "TLS record failed")
        default:
            return HTTPTransportError(kind: .other, detail: "connection lost")
        }
    }

    /// The request as HTTP/1.1 bytes. Header names and values were checked when the request was built.
    static func serialize(_ request: URLRequest, origin: HTTPOrigin) -> [UInt8] {
        var target = "/"
        if let url = request.url, let components = URLComponents(url: url, resolvingAgainstBaseURL: true) {
            if !components.percentEncodedPath.isEmpty { target = components.percentEncodedPath }
            if let query = components.percentEncodedQuery { target += "?" + query }
        }
        let method = request.httpMethod ?? "GET"
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(origin.hostHeader)\r\n"
        let body = request.httpBody ?? Data()
        for (name, value) in (request.allHTTPHeaderFields ?? [:]).sorted(by: { $0.key < $1.key }) {
            let lowered = name.lowercased()
            if lowered == "host" || lowered == "content-length" || lowered == "connection" { continue }
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + Array(body)
    }
}

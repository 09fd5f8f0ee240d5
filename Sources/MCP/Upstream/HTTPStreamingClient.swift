import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Transport

/// One piece of an HTTP response as it arrives.
enum HTTPStreamEvent: Sendable {
    case head(status: Int, headers: [String: String])
    case body(Data)
}

/// Why an HTTP exchange failed below HTTP (no status); safe to show (no URL, no header).
struct HTTPTransportError: Error, Sendable {
    enum Kind: Sendable {
        case unreachable, timedOut, cancelled, other
        /// The body passed `HTTPStreamLimits.maximumBodyBytes` (or the head its own bound).
        case tooLarge
        /// No byte within `HTTPStreamLimits.idleTimeout` once the head arrived.
        case idle
    }
    var kind: Kind
    var detail: String
}

/// HTTP/1.1 with streamed response bodies, for JSON and SSE answers. Reading is pulled by the
/// caller: nothing is read from a socket until the caller asks for the next piece, so a service
/// sending faster than the bridge reads is held back by TCP instead of piling up in memory (the
/// reason this is not URLSession, which on Linux reads at full speed into an unbounded queue and goes
/// on for hundreds of megabytes after a cancel). Every response is bounded (`HTTPStreamLimits`).
/// Redirects are never followed: they would carry the credentials elsewhere and re-send a call.
/// Header names in `head` are lower-cased.
final class HTTPStreamingClient: Sendable {
    private let pool: HTTPConnectionPool
    private let tls: TLSConfiguration

    init(maximumIdleConnectionsPerHost: Int = 8, tls: TLSConfiguration = .default) {
        self.pool = HTTPConnectionPool(maximumIdlePerOrigin: maximumIdleConnectionsPerHost)
        self.tls = tls
    }

    /// The response to `request`: the head, then body pieces, then the end (or `HTTPTransportError`).
    /// The request is sent when the first event is asked for; dropping the sequence before its end
    /// closes the connection. The request's timeout bounds the wait for the head.
    func stream(_ request: URLRequest, limits: HTTPStreamLimits) -> HTTPResponseStream {
        HTTPResponseStream(exchange: HTTPExchange(request: request, limits: limits, pool: pool, tls: tls))
    }

    /// Sends a request and collects the whole answer (at most `limits.maximumBodyBytes`).
    func fetch(_ request: URLRequest, limits: HTTPStreamLimits) async throws -> (status: Int, headers: [String: String], body: Data) {
        var status = 0
        var headers: [String: String] = [:]
        var body = Data()
        for try await event in stream(request, limits: limits) {
            switch event {
            case .head(let s, let h): status = s; headers = h
            case .body(let chunk): body.append(chunk)
            }
        }
        try Task.checkCancellation()
        return (status, headers, body)
    }

    /// Closes the idle connections; responses being read end with their readers.
    func shutdown() {
        pool.shutdown()
    }
}

/// The events of one response, read on demand.
struct HTTPResponseStream: AsyncSequence, Sendable {
    typealias Element = HTTPStreamEvent
    let exchange: HTTPExchange

    struct AsyncIterator: AsyncIteratorProtocol {
        let exchange: HTTPExchange

        mutating func next() async throws -> HTTPStreamEvent? {
            try await exchange.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(exchange: exchange)
    }
}

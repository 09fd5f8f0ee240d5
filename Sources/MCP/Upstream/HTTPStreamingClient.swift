import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// One piece of an HTTP response as it arrives.
enum HTTPStreamEvent: Sendable {
    case head(status: Int, headers: [String: String])
    case body(Data)
}

/// Why an HTTP exchange failed below HTTP (no status); safe to show (no URL, no header).
struct HTTPTransportError: Error, Sendable {
    enum Kind: Sendable { case unreachable, timedOut, cancelled, other }
    var kind: Kind
    var detail: String
}

/// HTTP over URLSession with streamed response bodies (a data delegate), for JSON and SSE answers.
/// Header names in `head` are lower-cased.
final class HTTPStreamingClient: Sendable {
    private let session: URLSession
    private let router: DelegateRouter

    init(maximumConnectionsPerHost: Int = 128) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maximumConnectionsPerHost
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        let router = DelegateRouter()
        self.router = router
        self.session = URLSession(configuration: configuration, delegate: router, delegateQueue: nil)
    }

    /// Starts a request; the stream yields the head, then body chunks, then ends (or throws
    /// `HTTPTransportError`). Ending the iteration early cancels the request.
    func stream(_ request: URLRequest) -> AsyncThrowingStream<HTTPStreamEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<HTTPStreamEvent, any Error>.makeStream()
        let task = session.dataTask(with: request)
        router.register(task.taskIdentifier, continuation)
        continuation.onTermination = { termination in
            if case .cancelled = termination { task.cancel() }
        }
        task.resume()
        return stream
    }

    /// Sends a request and collects the whole answer.
    func fetch(_ request: URLRequest) async throws -> (status: Int, headers: [String: String], body: Data) {
        var status = 0
        var headers: [String: String] = [:]
        var body = Data()
        for try await event in stream(request) {
            switch event {
            case .head(let s, let h): status = s; headers = h
            case .body(let chunk): body.append(chunk)
            }
        }
        try Task.checkCancellation()
        return (status, headers, body)
    }

    /// Cancels all requests and releases the session.
    func shutdown() {
        session.invalidateAndCancel()
    }
}

/// Routes URLSession delegate callbacks to the stream of each task.
private final class DelegateRouter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: all mutable state is inside the Mutex.
    private let streams = Mutex<[Int: AsyncThrowingStream<HTTPStreamEvent, any Error>.Continuation]>([:])

    func register(_ id: Int, _ continuation: AsyncThrowingStream<HTTPStreamEvent, any Error>.Continuation) {
        streams.withLock { $0[id] = continuation }
    }

    private func continuation(_ id: Int) -> AsyncThrowingStream<HTTPStreamEvent, any Error>.Continuation? {
        streams.withLock { $0[id] }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse {
            var headers: [String: String] = [:]
            for (key, value) in http.allHeaderFields {
                if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
            }
            continuation(dataTask.taskIdentifier)?.yield(.head(status: http.statusCode, headers: headers))
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        continuation(dataTask.taskIdentifier)?.yield(.body(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        // Never follow a redirect: it would carry the credentials elsewhere and re-send a call.
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let continuation = streams.withLock { $0.removeValue(forKey: task.taskIdentifier) }
        guard let continuation else { return }
        if let error {
            continuation.finish(throwing: Self.classify(error))
        } else {
            continuation.finish()
        }
    }

    static func classify(_ error: any Error) -> HTTPTransportError {
        guard let urlError = error as? URLError else {
            return HTTPTransportError(kind: .other, detail: "transfer failed")
        }
        switch urlError.code {
        case .cancelled:
            return HTTPTransportError(kind: .cancelled, detail: "cancelled")
        case .timedOut:
            return HTTPTransportError(kind: .timedOut, detail: "timed out")
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet:
            return HTTPTransportError(kind: .unreachable, detail: "connection refused or host not found")
        case .networkConnectionLost:
            return HTTPTransportError(kind: .other, detail: "connection lost")
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return HTTPTransportError(kind: .unreachable, detail: "TLS handshake failed")
        case .badServerResponse, .cannotParseResponse:
            return HTTPTransportError(kind: .other, detail: "bad HTTP response")
        default:
            return HTTPTransportError(kind: .other, detail: "transfer failed (URLError \(urlError.code.rawValue))")
        }
    }
}

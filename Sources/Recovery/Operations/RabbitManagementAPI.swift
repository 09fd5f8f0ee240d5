import AMQPClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the RabbitMQ management HTTP API reports for one queue; nil where it has no figure yet.
public struct ManagementQueueCounts: Sendable, Equatable {
    public var ready: Int?
    public var unacknowledged: Int?
    public var consumers: Int?
    /// The head message's `timestamp` property, when the broker tracks it.
    public var headMessageTimestamp: Date?

    public init(ready: Int? = nil, unacknowledged: Int? = nil, consumers: Int? = nil, headMessageTimestamp: Date? = nil) {
        self.ready = ready
        self.unacknowledged = unacknowledged
        self.consumers = consumers
        self.headMessageTimestamp = headMessageTimestamp
    }

    /// Reads a `GET /api/queues/{vhost}/{name}` reply body.
    public static func decode(_ data: Data) -> ManagementQueueCounts? {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        func integer(_ key: String) -> Int? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            if let number = value as? Int { return number }
            if let number = value as? Double, number.isFinite, number >= 0 { return Int(number) }
            return nil
        }
        return ManagementQueueCounts(
            ready: integer("messages_ready"), unacknowledged: integer("messages_unacknowledged"),
            consumers: integer("consumers"),
            headMessageTimestamp: integer("head_message_timestamp").map { Date(timeIntervalSince1970: TimeInterval($0)) })
    }
}

/// Why the management API gave no counts. Descriptions name the URL without credentials.
public enum ManagementAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer: refused, timed out, not HTTP.
    case unreachable(url: String, reason: String)
    /// The API refused the AMQP user's credentials (or the user lacks the management tag).
    case unauthorized(url: String, status: Int)
    /// The queue does not exist in the virtual host.
    case queueNotFound(url: String, queue: String)
    /// Any other answer.
    case unexpectedReply(url: String, status: Int)

    public var description: String {
        switch self {
        case let .unreachable(url, reason): return "RabbitMQ management API at \(url) is unreachable: \(reason)"
        case let .unauthorized(url, status): return "RabbitMQ management API at \(url) refused the AMQP user's credentials (HTTP \(status))"
        case let .queueNotFound(url, queue): return "RabbitMQ management API at \(url) has no queue '\(queue)'"
        case let .unexpectedReply(url, status): return "RabbitMQ management API at \(url) answered HTTP \(status)"
        }
    }
}

/// A read-only client of the RabbitMQ management HTTP API, for the queue counts AMQP cannot give
/// (unacknowledged messages). Basic authentication with the AMQP URL's user and password.
public struct RabbitManagementAPI: Sendable {
    /// The environment variable naming the API's base URL (e.g. `http://127.0.0.1:15672`).
    public static let urlVariable = "RABBITMQ_MANAGEMENT_URL"
    /// The management plugin's default port, used when the variable is unset and the AMQP URL is `amqp://`.
    public static let defaultPort = 15672
    /// The management plugin's default TLS port, used when the variable is unset and the AMQP URL is `amqps://`.
    public static let defaultTLSPort = 15671

    /// The base URL without credentials (safe to print): the first of `baseURLs`.
    public var baseURL: String { baseURLs[0] }
    /// One base URL per broker node (a cluster's AMQP URL lists several); asked in turn, starting with the
    /// one that answered last, so a stopped node costs one timeout once, not every request.
    public let baseURLs: [String]
    public let virtualHost: String
    private let authorization: String
    private let session: SessionBox
    private let answering: AnsweringNode

    public init(baseURL: String, user: String, password: String, virtualHost: String, timeout: TimeInterval = 3) {
        self.init(baseURLs: [baseURL], user: user, password: password, virtualHost: virtualHost, timeout: timeout)
    }

    public init(baseURLs: [String], user: String, password: String, virtualHost: String, timeout: TimeInterval = 3) {
        precondition(!baseURLs.isEmpty, "a management API needs a base URL")
        self.baseURLs = baseURLs.map { url in
            var base = url
            while base.hasSuffix("/") { base.removeLast() }
            return base
        }
        answering = AnsweringNode()
        self.virtualHost = virtualHost
        authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        session = SessionBox(URLSession(configuration: configuration))
    }

    /// The API for the broker of `amqpURL`: base URL from `RABBITMQ_MANAGEMENT_URL`, else the AMQP host
    /// with the AMQP URL's security (`amqps://` → `https://<host>:15671`, `amqp://` → `http://<host>:15672`,
    /// so credentials that travel encrypted to the broker are never sent in clear to its API);
    /// credentials from the management URL's userinfo, else the AMQP URL's.
    public static func resolve(amqpURL: String, environment: [String: String] = ProcessInfo.processInfo.environment, timeout: TimeInterval = 3) throws(AMQPError) -> RabbitManagementAPI {
        let amqp = try AMQPURL(parsing: amqpURL)
        var user = amqp.user
        var password = amqp.password
        var bases: [String]
        if let configured = environment[urlVariable]?.trimmingCharacters(in: .whitespaces), !configured.isEmpty {
            var base = configured
            if var components = URLComponents(string: configured), components.user != nil || components.password != nil {
                if let configuredUser = components.user { user = configuredUser }
                if let configuredPassword = components.password { password = configuredPassword }
                components.user = nil
                components.password = nil
                base = components.string ?? configured
            }
            bases = [base]
        } else {
            bases = defaultBaseURLs(for: amqp)
        }
        return RabbitManagementAPI(baseURLs: bases, user: user, password: password, virtualHost: amqp.virtualHost, timeout: timeout)
    }

    /// The management API's address on each of the AMQP URL's hosts, over TLS when the AMQP URL is.
    static func defaultBaseURLs(for amqp: AMQPURL) -> [String] {
        var seen = Set<String>()
        return amqp.servers.compactMap { server in
            let host = server.host.contains(":") ? "[\(server.host)]" : server.host
            let url = amqp.usesTLS ? "https://\(host):\(defaultTLSPort)" : "http://\(host):\(defaultPort)"
            return seen.insert(url).inserted ? url : nil
        }
    }

    /// `GET /api/queues/{vhost}/{name}`.
    public func queueCounts(_ queue: String) async throws(ManagementAPIError) -> ManagementQueueCounts {
        let data = try await get("/api/queues/" + Self.pathSegment(virtualHost) + "/" + Self.pathSegment(queue), queue: queue)
        guard let counts = ManagementQueueCounts.decode(data) else { throw .unexpectedReply(url: baseURL, status: 200) }
        return counts
    }

    /// The counts of every queue of the virtual host whose name starts with `prefix` (`GET /api/queues/{vhost}`,
    /// a few columns), by name.
    public func queues(namePrefix prefix: String) async throws(ManagementAPIError) -> [String: ManagementQueueCounts] {
        let data = try await get(
            "/api/queues/" + Self.pathSegment(virtualHost) + "?columns=name,messages_ready,messages_unacknowledged,consumers", queue: nil)
        guard let items = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
            throw .unexpectedReply(url: baseURL, status: 200)
        }
        var counts: [String: ManagementQueueCounts] = [:]
        for item in items {
            guard let name = item["name"] as? String, name.hasPrefix(prefix),
                  let body = try? JSONSerialization.data(withJSONObject: item), let decoded = ManagementQueueCounts.decode(body)
            else { continue }
            counts[name] = decoded
        }
        return counts
    }

    /// One authenticated GET, from the node that answered last, else each other node in turn (only an
    /// unreachable node moves on: any answer is the cluster's); 404 is `queueNotFound(queue)` when a queue
    /// was asked for.
    private func get(_ path: String, queue: String?) async throws(ManagementAPIError) -> Data {
        let first = answering.index % baseURLs.count
        var lastError = ManagementAPIError.unreachable(url: baseURLs[first], reason: "not asked")
        for offset in 0..<baseURLs.count {
            let index = (first + offset) % baseURLs.count
            do {
                let data = try await get(path, queue: queue, from: baseURLs[index])
                answering.index = index
                return data
            } catch {
                if case .unreachable = error { lastError = error; continue }
                answering.index = index
                throw error
            }
        }
        throw lastError
    }

    private func get(_ path: String, queue: String?, from baseURL: String) async throws(ManagementAPIError) -> Data {
        guard let url = URL(string: baseURL + path) else {
            throw .unreachable(url: baseURL, reason: "not a valid URL")
        }
        var request = URLRequest(url: url)
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.session.data(for: request)
        } catch {
            throw .unreachable(url: baseURL, reason: Self.reason(error))
        }
        guard let http = response as? HTTPURLResponse else { throw .unreachable(url: baseURL, reason: "not an HTTP answer") }
        switch http.statusCode {
        case 200: return data
        case 401, 403: throw .unauthorized(url: baseURL, status: http.statusCode)
        case 404 where queue != nil: throw .queueNotFound(url: baseURL, queue: queue!)
        default: throw .unexpectedReply(url: baseURL, status: http.statusCode)
        }
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters (so `/` becomes `%2F`).
    static func pathSegment(_ text: String) -> String {
        text.utf8.map { byte in
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar) {
                return String(Character(scalar))
            }
            return String(format: "%%%02X", byte)
        }.joined()
    }

    /// A short reason for a transport failure, without the URL (which the caller names).
    static func reason(_ error: Error) -> String {
        if let urlError = error as? URLError {
            switch urlError.code {
            case .timedOut: return "timed out"
            case .cannotConnectToHost: return "connection refused"
            case .cannotFindHost, .dnsLookupFailed: return "unknown host"
            case .networkConnectionLost: return "connection lost"
            default: return "URL error \(urlError.code.rawValue)"
            }
        }
        return "\(type(of: error))"
    }
}

/// The node that answered last.
private final class AnsweringNode: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    var index: Int {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Holds a `URLSession` (thread-safe, but not declared `Sendable` on every platform).
private final class SessionBox: @unchecked Sendable {
    let session: URLSession
    init(_ session: URLSession) { self.session = session }
    deinit { session.finishTasksAndInvalidate() }
}

import Foundation
import Logging
import Recovery
import RecoveryCore
import Synchronization
import Transport
import WebSocket

/// The console's request handling: sign-in, cross-site checks, routes, and the headers every answer
/// carries. Reads and changes go through a `ConsoleDataSource`; nothing here touches a socket.
public final class ConsoleApp: Sendable {
    let data: any ConsoleDataSource
    let tokens: ConsoleTokens
    let sessions = ConsoleSessions()
    let feed: ConsoleLiveFeed
    let history: Mutex<QueueHistory>
    let logger: Logger
    private let throttle = Mutex(SignInThrottle())
    /// How often a live-update stream looks for a new snapshot, and sends a comment to keep proxies from
    /// closing an idle stream.
    let streamPoll: Duration

    public init(data: any ConsoleDataSource, tokens: ConsoleTokens, feed: ConsoleLiveFeed = ConsoleLiveFeed(),
                history: QueueHistory = QueueHistory(), logger: Logger, streamPoll: Duration = .seconds(1)) {
        self.data = data
        self.tokens = tokens
        self.feed = feed
        self.history = Mutex(history)
        self.logger = logger
        self.streamPoll = streamPoll
    }

    /// Headers on every answer: nothing cached, nothing framed, scripts and styles from the console only.
    static let securityHeaders: [(String, String)] = [
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]

    public func handle(_ request: HTTPRequest) async -> HTTPReply {
        let route = ConsoleRoute(method: request.head.method, path: request.head.path)
        let headers = request.head.headers
        if case .refused(let why) = CrossOriginCheck.verdict(
            method: request.head.method, secFetchSite: headers["Sec-Fetch-Site"], origin: headers["Origin"], host: headers["Host"]) {
            logger.warning("console refused a cross-site request", metadata: ["path": "\(request.head.path)", "peer": "\(request.peerHost)", "why": "\(why)"])
            return reply(403, text: "refused: \(why)\n")
        }
        switch route {
        case .notFound: return reply(404, text: "not found\n")
        case .wrongMethod(let allowed):
            var response = response(405, text: "method not allowed\n")
            response.headers.add(name: "Allow", value: allowed)
            return .response(response)
        case .asset(let name):
            guard let asset = ConsoleAssets.named(name) else { return reply(404, text: "not found\n") }
            return reply(200, contentType: asset.contentType, body: asset.body)
        case .signInPage:
            let failed = request.head.queryValue("failed") != nil
            return reply(200, contentType: "text/html; charset=utf-8", body: Array(ConsolePages.signIn(failed: failed).utf8))
        case .signIn:
            return signIn(request)
        default:
            break
        }
        guard let (role, sessionId) = authenticate(request) else {
            return route.isAPI ? reply(401, text: "sign in first\n") : redirect("/login")
        }
        if route.changesState, !role.canChange {
            logger.notice("console refused a change to a read-only operator", metadata: ["path": "\(request.head.path)", "peer": "\(request.peerHost)"])
            return reply(403, text: "read-only: this sign-in cannot retry or purge\n")
        }
        do {
            return try await answer(route, request: request, role: role, sessionId: sessionId)
        } catch {
            // The reason goes to the log (redacted there); the page says only which read failed.
            logger.warning("console request failed", metadata: ["path": "\(request.head.path)", "error": "\(error)"])
            return reply(503, text: "the pool's servers did not answer this read; see the scheduler's log\n")
        }
    }

    private func answer(_ route: ConsoleRoute, request: HTTPRequest, role: ConsoleRole, sessionId: String?) async throws -> HTTPReply {
        let now = Date()
        switch route {
        case .page(let page):
            return reply(200, contentType: "text/html; charset=utf-8", body: Array(ConsolePages.page(page, role: role).utf8))
        case .signOut:
            if let sessionId { sessions.close(sessionId) }
            var response = response(303, text: "")
            response.headers.add(name: "Location", value: "/login")
            response.headers.add(name: "Set-Cookie", value: "\(ConsoleSessions.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
            return .response(response)
        case .apiSession:
            return json(OperatorJSON.render(.object([OperatorField("role", .string(role.rawValue))])))
        case .apiOverview:
            return json(try await overview(now: now))
        case .apiEndpoints:
            let report = try await data.endpoints()
            let query = EndpointQuery(items: Self.query(of: request))
            let page = query.apply(to: report.rows).page
            let latest = try await data.lastResults(endpointIds: page.map(\.id))
            return json(ConsoleViews.endpoints(report: report, query: query, lastResults: latest, now: now))
        case .apiEndpoint(let id):
            guard let detail = try await data.endpoint(id: id) else { return reply(404, text: "no endpoint '\(id.rawValue.escapingControlCharacters)'\n") }
            return json(ConsoleViews.endpoint(detail, now: now))
        case .apiWorkers:
            return json(ConsoleViews.workers(try await data.workers()))
        case .apiQueues:
            return json(try await queues())
        case .apiDeadLetters:
            return json(ConsoleViews.deadLetters(try await data.deadLetters(), filter: DeadLetterFilter(items: Self.query(of: request)), now: now))
        case .apiEvents:
            return events()
        case .retryDeadLetters, .purgeDeadLetters:
            let form = FormBody.parse(request.body)
            guard let selection = try await selection(form) else {
                return reply(400, text: "name the dead letters: scope=all, scope=filter with q and reason, or servers=ID,ID\n")
            }
            if route == .retryDeadLetters {
                let report = try await data.retry(selection)
                logger.notice("console retried dead letters", metadata: ["peer": "\(request.peerHost)", "retried": "\(report.retried)", "endpoints": "\(report.jobs.count)"])
                return json(ConsoleViews.retried(report))
            }
            let report = try await data.purge(selection)
            logger.notice("console purged dead letters", metadata: ["peer": "\(request.peerHost)", "purged": "\(report.purged)"])
            return json(ConsoleViews.purged(report))
        default:
            return reply(404, text: "not found\n")
        }
    }

    /// The overview as the page and the live stream show it.
    func overview(now: Date = Date()) async throws -> String {
        async let report = data.endpoints()
        async let cycle = data.lastCycle()
        async let outcomes = data.outcomesPerMinute()
        return ConsoleViews.overview(report: try await report, cycle: try await cycle, outcomes: try await outcomes, now: now)
    }

    /// The queue depths, recorded in the history too.
    func queues() async throws -> String {
        let report = try await data.queues()
        let history = history.withLock { history in
            history.add(report)
            return history
        }
        return ConsoleViews.queues(report, history: history)
    }

    /// What a retry or purge acts on: `servers=a,b`, `scope=all`, or `scope=filter` with the dead-letters
    /// page's `q` and `reason` (resolved to the endpoints matching now).
    func selection(_ form: [(name: String, value: String)]) async throws -> DeadLetterSelection? {
        func value(_ name: String) -> String? { form.first { $0.name == name }?.value }
        if let servers = value("servers") {
            let ids = servers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return ids.isEmpty ? nil : .servers(Set(ids.map(EndpointID.init(rawValue:))))
        }
        switch value("scope") {
        case "all": return .all
        case "filter":
            let filter = DeadLetterFilter(items: form)
            if filter.isEmpty { return .all }
            let ids = try await data.deadLetters().filter(filter.matches).compactMap(\.endpointId)
            return .servers(Set(ids))
        default: return nil
        }
    }

    /// Server-sent events: the overview and the queues each time the feed has a new snapshot.
    private func events() -> HTTPReply {
        var headers = HTTPHeaders()
        for (name, value) in Self.securityHeaders { headers.add(name: name, value: value) }
        headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "X-Accel-Buffering", value: "no")
        let feed = feed
        let poll = streamPoll
        return .stream(status: 200, headers: headers) { writer in
            feed.listen()
            defer { feed.stopListening() }
            var sent = -1
            var quiet = 0
            guard writer.write(Array("retry: 5000\n\n".utf8)) else { return }
            while !writer.isClosed {
                let snapshot = feed.snapshot
                if snapshot.sequence != sent {
                    sent = snapshot.sequence
                    quiet = 0
                    if let overview = snapshot.overview, !writer.write(ConsoleLiveFeed.event("overview", data: overview)) { return }
                    if let queues = snapshot.queues, !writer.write(ConsoleLiveFeed.event("queues", data: queues)) { return }
                } else {
                    quiet += 1
                    if quiet >= 15, !writer.write(Array(": keep-alive\n\n".utf8)) { return }
                    if quiet >= 15 { quiet = 0 }
                }
                try? await Task.sleep(for: poll)
            }
        }
    }

    // MARK: sign-in

    private func signIn(_ request: HTTPRequest) -> HTTPReply {
        let now = Date()
        let peer = request.peerHost
        guard throttle.withLock({ $0.allows(peer, now: now) }) else {
            logger.warning("console sign-in refused: too many failures", metadata: ["peer": "\(peer)"])
            return reply(429, text: "too many failed sign-ins; wait a minute\n")
        }
        let token = FormBody.parse(request.body).first { $0.name == "token" }?.value ?? ""
        guard let role = tokens.role(of: token) else {
            throttle.withLock { $0.failed(peer, now: now) }
            logger.notice("console sign-in failed", metadata: ["peer": "\(peer)"])
            return redirect("/login?failed=1")
        }
        throttle.withLock { $0.succeeded(peer) }
        let id = sessions.open(role, now: now)
        logger.info("console sign-in", metadata: ["peer": "\(peer)", "role": "\(role.rawValue)"])
        var response = response(303, text: "")
        response.headers.add(name: "Location", value: "/")
        response.headers.add(
            name: "Set-Cookie",
            value: "\(ConsoleSessions.cookieName)=\(id); Path=/; Max-Age=\(Int(ConsoleSessions.lifetime)); HttpOnly; SameSite=Strict")
        return .response(response)
    }

    /// The operator's role, from the session cookie or an `Authorization` header (Bearer token, or Basic
    /// with the token as password, for scripts); the session id when it came from the cookie.
    func authenticate(_ request: HTTPRequest) -> (ConsoleRole, String?)? {
        if let cookie = request.head.headers["Cookie"], let id = Self.cookie(ConsoleSessions.cookieName, in: cookie),
           let role = sessions.role(of: id) {
            return (role, id)
        }
        guard let authorization = request.head.headers["Authorization"] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer":
            return tokens.role(of: String(parts[1])).map { ($0, nil) }
        case "basic":
            guard let decoded = Data(base64Encoded: String(parts[1])), let text = String(data: decoded, encoding: .utf8),
                  let colon = text.firstIndex(of: ":")
            else { return nil }
            return tokens.role(of: String(text[text.index(after: colon)...])).map { ($0, nil) }
        default:
            return nil
        }
    }

    /// The target's query as a form (`+` is a space, as the page's `URLSearchParams` writes it).
    static func query(of request: HTTPRequest) -> [(name: String, value: String)] {
        guard let mark = request.head.target.firstIndex(of: "?") else { return [] }
        return FormBody.parse(Array(request.head.target[request.head.target.index(after: mark)...].utf8))
    }

    static func cookie(_ name: String, in header: String) -> String? {
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
        }
        return nil
    }

    // MARK: answers

    private func response(_ status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) -> HTTPResponse {
        var headers = HTTPHeaders()
        for (name, value) in Self.securityHeaders { headers.add(name: name, value: value) }
        headers.add(name: "Content-Type", value: contentType)
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    private func response(_ status: Int, text: String) -> HTTPResponse {
        response(status, body: Array(text.utf8))
    }

    private func reply(_ status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) -> HTTPReply {
        .response(response(status, contentType: contentType, body: body))
    }

    private func reply(_ status: Int, text: String) -> HTTPReply {
        .response(response(status, text: text))
    }

    private func json(_ text: String) -> HTTPReply {
        reply(200, contentType: "application/json", body: Array(text.utf8))
    }

    private func redirect(_ location: String) -> HTTPReply {
        var response = response(303, text: "")
        response.headers.add(name: "Location", value: location)
        return .response(response)
    }
}

import Console
import Foundation
import Recovery
import RecoveryCore
import Testing

@Suite struct ConsoleRulesTests {
    @Test func crossOriginCheckFollowsFetchMetadataThenOrigin() {
        typealias Check = CrossOriginCheck
        #expect(Check.verdict(method: "GET", secFetchSite: "cross-site", origin: "http://evil", host: "a") == .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: "same-origin", origin: nil, host: nil) == .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: "none", origin: nil, host: nil) == .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: "cross-site", origin: "http://a", host: "a") != .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: "same-site", origin: nil, host: nil) != .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: nil, origin: "http://a:1", host: "a:1") == .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: nil, origin: "http://b:1", host: "a:1") != .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: nil, origin: "null", host: "a:1") != .allowed)
        #expect(Check.verdict(method: "DELETE", secFetchSite: nil, origin: "http://a:1/x", host: "a:1") != .allowed)
        #expect(Check.verdict(method: "POST", secFetchSite: nil, origin: nil, host: "a:1") == .allowed, "not from a browser")
    }

    @Test func tokensMatchExactlyAndNameTheirRole() {
        let tokens = ConsoleTokens(admin: "admin-token-0123456789", viewer: "viewer-token-0123456789")
        #expect(tokens.role(of: "admin-token-0123456789") == .admin)
        #expect(tokens.role(of: "viewer-token-0123456789") == .viewer)
        #expect(tokens.role(of: "admin-token-012345678") == nil)
        #expect(tokens.role(of: "admin-token-01234567890") == nil)
        #expect(tokens.role(of: "") == nil)
        #expect(ConsoleTokens(admin: nil, viewer: "viewer-token-0123456789").role(of: "") == nil)
    }

    @Test func sessionsExpireAndClose() {
        let sessions = ConsoleSessions(capacity: 2)
        let start = Date()
        let first = sessions.open(.admin, now: start)
        #expect(first.count == 64)
        #expect(sessions.role(of: first, now: start) == .admin)
        #expect(sessions.role(of: first, now: start.addingTimeInterval(ConsoleSessions.lifetime + 1)) == nil)
        let a = sessions.open(.viewer, now: start)
        let b = sessions.open(.viewer, now: start.addingTimeInterval(1))
        let c = sessions.open(.viewer, now: start.addingTimeInterval(2))
        #expect(sessions.role(of: a, now: start.addingTimeInterval(3)) == nil, "the oldest gives way past the capacity")
        #expect(sessions.role(of: b, now: start.addingTimeInterval(3)) == .viewer)
        sessions.close(c)
        #expect(sessions.role(of: c, now: start.addingTimeInterval(3)) == nil)
    }

    @Test func signInThrottleCountsFailuresPerAddressWithinTheWindow() {
        var throttle = SignInThrottle(maxFailures: 3, window: 60)
        let now = Date()
        for _ in 0..<3 { throttle.failed("a", now: now) }
        var allowed = throttle.allows("a", now: now)
        #expect(!allowed)
        allowed = throttle.allows("b", now: now)
        #expect(allowed)
        allowed = throttle.allows("a", now: now.addingTimeInterval(61))
        #expect(allowed)
        throttle.failed("c", now: now)
        throttle.succeeded("c")
        allowed = throttle.allows("c", now: now)
        #expect(allowed)
    }

    @Test func formBodiesDecodePlusAndPercent() {
        let items = FormBody.parse(Array("token=a%2Bb+c&servers=e1%2Ce2&empty=&bad=%zz&flag".utf8))
        #expect(items.map(\.name) == ["token", "servers", "empty", "bad", "flag"])
        #expect(items.map(\.value) == ["a+b c", "e1,e2", "", "%zz", ""])
    }

    @Test func routesByMethodAndPath() {
        #expect(ConsoleRoute(method: "GET", path: "/") == .page(.overview))
        #expect(ConsoleRoute(method: "GET", path: "/endpoints/abc%2Dd") == .page(.endpoint))
        #expect(ConsoleRoute(method: "GET", path: "/api/endpoints/abc%2Dd") == .apiEndpoint("abc-d"))
        #expect(ConsoleRoute(method: "GET", path: "/api/endpoints/a/b") == .notFound)
        #expect(ConsoleRoute(method: "POST", path: "/api/dead/retry") == .retryDeadLetters)
        #expect(ConsoleRoute(method: "GET", path: "/api/dead/retry") == .wrongMethod(allowed: "POST"))
        #expect(ConsoleRoute(method: "POST", path: "/api/overview") == .wrongMethod(allowed: "GET, HEAD"))
        #expect(ConsoleRoute(method: "POST", path: "/login") == .signIn)
        #expect(!ConsoleRoute.signInPage.needsSignIn && ConsoleRoute.apiOverview.needsSignIn)
    }

    @Test func endpointQueryFiltersSearchesAndClampsItsPage() {
        let rows = (1...120).map { EndpointStatus(id: EndpointID("e\($0)"), name: $0 % 2 == 0 ? "even" : "odd", enabled: true, state: $0 <= 100 ? "Connected" : "missing") }
        #expect(EndpointQuery(state: "missing").apply(to: rows).matching == 20)
        #expect(EndpointQuery(search: "EVEN").apply(to: rows).matching == 60)
        let last = EndpointQuery(page: 3, perPage: 50).apply(to: rows)
        #expect(last.page.map(\.id) == (101...120).map { EndpointID("e\($0)") })
        #expect(EndpointQuery(page: 9, perPage: 50).apply(to: rows).page.isEmpty)
        let parsed = EndpointQuery(items: [("per", "100000"), ("page", "-3"), ("q", String(repeating: "x", count: 1000))])
        #expect(parsed.perPage == EndpointQuery.maxPerPage && parsed.page == 1 && parsed.search.count == 200)
        let far = EndpointQuery(items: [("page", String(Int.max)), ("per", String(Int.max))])
        #expect(far.apply(to: rows).page.isEmpty, "a hostile page number is an empty page, not an overflow")
    }

    @Test func queueHistoryKeepsOneHour() {
        var history = QueueHistory(span: 3600)
        let start = Date()
        for minute in 0...120 {
            history.add(QueueReport(queues: [QueueDepth(name: "q", role: .jobs, ready: minute, unacknowledged: 1)], takenAt: start.addingTimeInterval(Double(minute * 60))))
        }
        #expect(history.samples.count == 61)
        #expect(history.samples.first?.depths["q"] == 61)
        #expect(history.samples.last?.depths["q"] == 121)
    }
}

import Console
import Foundation
import Logging
import Recovery
import RecoveryCore
import Synchronization
import Testing
import Transport
import WebSocket

/// The console's sign-in, roles, cross-site refusal, headers and routes, over an in-memory data source.
@Suite struct ConsoleAppTests {
    static let adminToken = "admin-token-0123456789abcdef"
    static let viewerToken = "viewer-token-0123456789abcdef"

    func makeApp(data: FakeConsoleData = FakeConsoleData()) -> ConsoleApp {
        ConsoleApp(data: data, tokens: ConsoleTokens(admin: Self.adminToken, viewer: Self.viewerToken), logger: Logger(label: "console-test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func pagesSendTheUnsignedToSignInAndTheAPIAnswers401() async throws {
        let app = makeApp()
        for path in ["/", "/endpoints", "/endpoints/e1", "/workers", "/queues", "/dead"] {
            let answer = try await app.handle(.get(path)).response()
            #expect(answer.status == 303, "\(path)")
            #expect(answer.headers["Location"] == "/login")
        }
        for path in ["/api/overview", "/api/endpoints", "/api/workers", "/api/queues", "/api/dead", "/api/endpoints/e1", "/api/events"] {
            #expect(try await app.handle(.get(path)).response().status == 401, "\(path)")
        }
        #expect(try await app.handle(.get("/login")).response().status == 200)
        #expect(try await app.handle(.get("/assets/console.js")).response().status == 200)
        #expect(try await app.handle(.get("/nothing")).response().status == 404)
    }

    @Test func signInSetsAStrictHttpOnlyCookieThatOpensThePages() async throws {
        let app = makeApp()
        let signIn = try await app.handle(.post("/login", form: "token=\(Self.adminToken)", headers: ["Sec-Fetch-Site": "same-origin"])).response()
        #expect(signIn.status == 303)
        #expect(signIn.headers["Location"] == "/")
        let cookie = try #require(signIn.headers["Set-Cookie"])
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        #expect(!cookie.contains(Self.adminToken), "the cookie is a session id, not the token")
        let session = String(cookie.split(separator: ";")[0])
        let overview = try await app.handle(.get("/api/overview", headers: ["Cookie": session])).response()
        #expect(overview.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(overview.body)) as? [String: Any])
        #expect(object["enabled"] as? Int == 3)
        #expect(object["connected"] as? Int == 1)
        #expect(object["missing"] as? Int == 1)
        #expect(try await app.handle(.get("/", headers: ["Cookie": session])).response().status == 200)

        let signOut = try await app.handle(.post("/logout", form: "", headers: ["Cookie": session, "Sec-Fetch-Site": "same-origin"])).response()
        #expect(signOut.status == 303)
        #expect(try await app.handle(.get("/api/overview", headers: ["Cookie": session])).response().status == 401, "signed out")
    }

    @Test func aWrongTokenFailsAndRepeatedFailuresAreThrottled() async throws {
        let app = makeApp()
        let wrong = try await app.handle(.post("/login", form: "token=not-the-token-at-all-0000")).response()
        #expect(wrong.status == 303)
        #expect(wrong.headers["Location"] == "/login?failed=1")
        #expect(wrong.headers["Set-Cookie"] == nil)
        for _ in 0..<9 { _ = await app.handle(.post("/login", form: "token=guess-guess-guess-guess")) }
        let throttled = try await app.handle(.post("/login", form: "token=\(Self.adminToken)")).response()
        #expect(throttled.status == 429, "even the right token waits once an address failed ten times")
        let otherPeer = try await app.handle(.post("/login", form: "token=\(Self.adminToken)", peer: "10.0.0.2")).response()
        #expect(otherPeer.status == 303)
        #expect(otherPeer.headers["Set-Cookie"] != nil)
    }

    @Test func aViewerReadsButCannotRetryOrPurge() async throws {
        let data = FakeConsoleData()
        let app = makeApp(data: data)
        let viewer = ["Authorization": "Bearer \(Self.viewerToken)"]
        #expect(try await app.handle(.get("/api/dead", headers: viewer)).response().status == 200)
        #expect(try await app.handle(.post("/api/dead/retry", form: "scope=all", headers: viewer)).response().status == 403)
        #expect(try await app.handle(.post("/api/dead/purge", form: "scope=all", headers: viewer)).response().status == 403)
        #expect(data.recorded.isEmpty)
        let page = try await app.handle(.get("/dead", headers: viewer)).response()
        #expect(String(decoding: page.body, as: UTF8.self).contains("data-role=\"viewer\""))
    }

    @Test func anAdminRetriesBySelectionFilterOrAll() async throws {
        let data = FakeConsoleData()
        let app = makeApp(data: data)
        let basic = "Basic " + Data("ops:\(Self.adminToken)".utf8).base64EncodedString()
        let admin = ["Authorization": basic]
        let retried = try await app.handle(.post("/api/dead/retry", form: "servers=e2%2Ce3", headers: admin)).response()
        #expect(retried.status == 200)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(retried.body)) as? [String: Any])
        #expect(report["retried"] as? Int == 2)
        #expect(try await app.handle(.post("/api/dead/retry", form: "scope=filter&reason=exhausted", headers: admin)).response().status == 200)
        #expect(try await app.handle(.post("/api/dead/purge", form: "scope=all", headers: admin)).response().status == 200)
        #expect(try await app.handle(.post("/api/dead/purge", form: "nothing=1", headers: admin)).response().status == 400)
        #expect(data.recorded == [
            .retry(.servers(["e2", "e3"])), .retry(.servers(["e3"])), .purge(.all),
        ])
    }

    @Test func crossSiteChangesAreRefusedWhateverTheSignIn() async throws {
        let data = FakeConsoleData()
        let app = makeApp(data: data)
        let signIn = try await app.handle(.post("/login", form: "token=\(Self.adminToken)")).response()
        let session = String(try #require(signIn.headers["Set-Cookie"]).split(separator: ";")[0])
        for headers in [
            ["Cookie": session, "Sec-Fetch-Site": "cross-site"],
            ["Cookie": session, "Sec-Fetch-Site": "same-site"],
            ["Cookie": session, "Origin": "http://evil.example", "Host": "127.0.0.1:9470"],
            ["Cookie": session, "Origin": "null", "Host": "127.0.0.1:9470"],
        ] {
            #expect(try await app.handle(.post("/api/dead/retry", form: "scope=all", headers: headers)).response().status == 403, "\(headers)")
        }
        #expect(try await app.handle(.post("/login", form: "token=\(Self.adminToken)", headers: ["Sec-Fetch-Site": "cross-site"])).response().status == 403,
                "a cross-site sign-in (login CSRF) is refused too")
        #expect(data.recorded.isEmpty)
        let sameOrigin = ["Cookie": session, "Origin": "http://127.0.0.1:9470", "Host": "127.0.0.1:9470"]
        #expect(try await app.handle(.post("/api/dead/retry", form: "scope=all", headers: sameOrigin)).response().status == 200)
    }

    @Test func everyAnswerForbidsCachingFramingAndForeignScripts() async throws {
        let app = makeApp()
        let bearer = ["Authorization": "Bearer \(Self.adminToken)"]
        for path in ["/", "/login", "/api/overview", "/api/endpoints?q=e&page=1", "/api/endpoints/e1", "/api/workers", "/api/queues", "/api/dead", "/assets/console.css", "/nothing"] {
            let answer = try await app.handle(.get(path, headers: bearer)).response()
            #expect(answer.headers["Cache-Control"] == "no-store", "\(path)")
            let policy = try #require(answer.headers["Content-Security-Policy"], "\(path)")
            #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"))
            #expect(answer.headers["X-Content-Type-Options"] == "nosniff")
            let text = String(decoding: answer.body, as: UTF8.self)
            #expect(!text.contains(Self.adminToken) && !text.contains(Self.viewerToken), "\(path) shows a console token")
            #expect(!text.contains(FakeConsoleData.endpointSecret), "\(path) shows an endpoint's token")
        }
    }

    @Test func theEndpointsTableSearchesFiltersAndPages() async throws {
        let app = makeApp()
        let bearer = ["Authorization": "Bearer \(Self.viewerToken)"]
        let page = try await app.handle(.get("/api/endpoints?state=missing", headers: bearer)).response()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(page.body)) as? [String: Any])
        #expect(object["total"] as? Int == 4)
        #expect(object["matching"] as? Int == 1)
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.map { $0["id"] as? String } == ["e2"])
        let second = try await app.handle(.get("/api/endpoints?per=2&page=2", headers: bearer)).response()
        let secondObject = try #require(try JSONSerialization.jsonObject(with: Data(second.body)) as? [String: Any])
        #expect((secondObject["rows"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["e3", "e4"])
        let results = try #require(secondObject["lastResults"] as? [Any])
        #expect(results.count == 2)
        #expect(try await app.handle(.get("/api/endpoints/none", headers: bearer)).response().status == 404)
        // The page writes its search as URLSearchParams does: a space is `+`.
        let spaced = try await app.handle(.get("/api/endpoints?q=exhausted%3A+handshake", headers: bearer)).response()
        let spacedObject = try #require(try JSONSerialization.jsonObject(with: Data(spaced.body)) as? [String: Any])
        #expect(spacedObject["matching"] as? Int == 1)
        let detail = try await app.handle(.get("/api/endpoints/e1", headers: bearer)).response()
        let detailObject = try #require(try JSONSerialization.jsonObject(with: Data(detail.body)) as? [String: Any])
        #expect((detailObject["tools"] as? [[String: Any]])?.first?["name"] as? String == "weather")
        #expect((detailObject["results"] as? [[String: Any]])?.first?["outcome"] as? String == "recovered")
    }

    @Test func aFailingReadIsA503ThatNamesNoServer() async throws {
        let data = FakeConsoleData()
        data.failing.withLock { $0 = true }
        let answer = try await makeApp(data: data).handle(.get("/api/overview", headers: ["Authorization": "Bearer \(Self.adminToken)"])).response()
        #expect(answer.status == 503)
        #expect(!String(decoding: answer.body, as: UTF8.self).contains("redis://"))
    }
}

extension HTTPRequest {
    static func get(_ target: String, headers: [String: String] = [:], peer: String = "127.0.0.1") -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: "GET", target: target, headers: HTTPHeaders(headers.map { ($0.key, $0.value) })), body: [], peerHost: peer)
    }

    static func post(_ target: String, form: String, headers: [String: String] = [:], peer: String = "127.0.0.1") -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: "POST", target: target, headers: HTTPHeaders(headers.map { ($0.key, $0.value) })), body: Array(form.utf8), peerHost: peer)
    }
}

extension HTTPReply {
    func response() throws -> HTTPResponse {
        guard case .response(let response) = self else { throw ReplyIsAStream() }
        return response
    }
}

struct ReplyIsAStream: Error {}

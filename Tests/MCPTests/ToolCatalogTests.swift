import Testing
@testable import MCP

@Suite struct ToolCatalogTests {
    typealias F = Fixtures

    @Test func offersTheSelectedToolsOfActiveBindingsOnly() {
        let (catalog, issues) = F.catalog(
            bindings: [
                F.binding("b1", config: "c1", selected: #"["a","b"]"#),
                F.binding("b2", config: "c2", selected: #"["x"]"#, active: false),
                F.binding("b3", config: "c3", selected: #"["y"]"#, endpoint: "another-endpoint"),
            ],
            configs: [F.config("c1"), F.config("c2"), F.config("c3")],
            tools: [F.tool("a", config: "c1"), F.tool("b", config: "c1"), F.tool("c", config: "c1"),
                    F.tool("x", config: "c2"), F.tool("y", config: "c3")])
        #expect(catalog.tools.map(\.name) == ["a", "b"])
        #expect(issues.isEmpty)
    }

    @Test func usesAnotherUsersServiceOnlyWhenItIsPublic() {
        let (catalog, issues) = F.catalog(
            bindings: [
                F.binding("b1", config: "own", selected: #"["a"]"#),
                F.binding("b2", config: "shared", selected: #"["b"]"#),
                F.binding("b3", config: "private", selected: #"["c"]"#),
            ],
            configs: [F.config("own"), F.config("shared", userId: "user-2", isPublic: true), F.config("private", userId: "user-2")],
            tools: [F.tool("a", config: "own"), F.tool("b", config: "shared"), F.tool("c", config: "private")])
        #expect(catalog.tools.map(\.name).sorted() == ["a", "b"])
        #expect(issues == [.privateServiceOfAnotherUser(bindingId: "b3", serviceConfigId: "private")])
    }

    @Test func offersNothingForAnEmptySelection() {
        let (catalog, issues) = F.catalog(
            bindings: [F.binding("b1", config: "c1", selected: "[]"), F.binding("b2", config: "c1", selected: nil),
                       F.binding("b3", config: "c1", selected: "")],
            configs: [F.config("c1")], tools: [F.tool("a", config: "c1")])
        #expect(catalog.tools.isEmpty)
        #expect(issues.isEmpty)
    }

    @Test func routesEachToolToItsBindingsService() {
        let (catalog, _) = F.catalog(
            bindings: [F.binding("b1", config: "c1", selected: #"["a"]"#), F.binding("b2", config: "c2", selected: #"["b"]"#)],
            configs: [F.config("c1", endpoint: "http://one/mcp"), F.config("c2", endpoint: "http://two/sse", protocolName: "SSE")],
            tools: [F.tool("a", config: "c1"), F.tool("b", config: "c2")])
        #expect(catalog.tool(named: "a")?.service.endpoint == "http://one/mcp")
        #expect(catalog.tool(named: "b")?.service.transport == .serverSentEvents)
        #expect(catalog.tool(named: "b")?.service.userId == F.owner)
    }

    @Test func keepsTheEarliestBindingOfADuplicateNameAndReportsIt() {
        let (catalog, issues) = F.catalog(
            bindings: [F.binding("b-late", config: "c2", selected: #"["same"]"#, created: 10),
                       F.binding("b-early", config: "c1", selected: #"["same"]"#, created: 5)],
            configs: [F.config("c1"), F.config("c2")],
            tools: [F.tool("same", config: "c1"), F.tool("same", config: "c2")])
        #expect(catalog.tool(named: "same")?.bindingId == "b-early")
        #expect(issues == [.duplicateToolName(toolName: "same", keptBindingId: "b-early", droppedBindingId: "b-late")])
    }

    @Test func breaksACreatedAtTieByBindingId() {
        let (catalog, _) = F.catalog(
            bindings: [F.binding("b-2", config: "c2", selected: #"["same"]"#, created: 5),
                       F.binding("b-1", config: "c1", selected: #"["same"]"#, created: 5)],
            configs: [F.config("c1"), F.config("c2")],
            tools: [F.tool("same", config: "c1"), F.tool("same", config: "c2")])
        #expect(catalog.tool(named: "same")?.bindingId == "b-1")
    }

    @Test(arguments: [#"["a""#, #"{"a":1}"#, #"["a",1]"#, "a,b"])
    func skipsABindingWithMalformedSelectedToolNames(selection: String) {
        let (catalog, issues) = F.catalog(
            bindings: [F.binding("bad", config: "c1", selected: selection), F.binding("good", config: "c2", selected: #"["b"]"#)],
            configs: [F.config("c1"), F.config("c2")],
            tools: [F.tool("a", config: "c1"), F.tool("b", config: "c2")])
        #expect(catalog.tools.map(\.name) == ["b"])
        #expect(issues.count == 1)
        guard case .malformedSelectedToolNames(let bindingId, _)? = issues.first else {
            Issue.record("unexpected issues \(issues)")
            return
        }
        #expect(bindingId == "bad")
    }

    @Test func skipsAToolWithAMalformedSchemaAndReportsIt() {
        let (catalog, issues) = F.catalog(
            bindings: [F.binding("b1", config: "c1", selected: #"["a","b","c"]"#)],
            configs: [F.config("c1")],
            tools: [F.tool("a", config: "c1", schema: #"{"type":"object""#), F.tool("b", config: "c1", schema: "[1]"),
                    F.tool("c", config: "c1")])
        #expect(catalog.tools.map(\.name) == ["c"])
        #expect(issues.map { if case .malformedInputSchema(_, let name, _) = $0 { name } else { "?" } } == ["a", "b"])
    }

    @Test func reportsMissingConfigsAndUnknownTools() {
        let (catalog, issues) = F.catalog(
            bindings: [F.binding("b1", config: "gone", selected: #"["a"]"#), F.binding("b2", config: "c1", selected: #"["nope"]"#)],
            configs: [F.config("c1")], tools: [])
        #expect(catalog.tools.isEmpty)
        #expect(issues == [.missingServiceConfig(bindingId: "b1", serviceConfigId: "gone"),
                           .selectedToolNotFound(bindingId: "b2", toolName: "nope")])
    }

    @Test func skipsABindingWhoseAuthenticationIsUnusableWithoutLeakingIt() {
        let (catalog, issues) = F.catalog(
            bindings: [F.binding("b1", config: "c1", selected: #"["a"]"#)],
            configs: [F.config("c1", authType: "Bearer", authConfig: #"{"tok":"s3cret-value"}"#)],
            tools: [F.tool("a", config: "c1")])
        #expect(catalog.tools.isEmpty)
        #expect(issues.count == 1)
        #expect(!issues.description.contains("s3cret-value"))
    }

    @Test func passesTheStoredSchemaOnWhole() throws {
        let schema = #"{"type":"object","properties":{"city":{"type":"string","description":"城市","enum":["北京","上海"]},"#
            + ##""days":{"type":"integer","minimum":1,"maximum":12345678901234567890},"opts":{"type":"object","additionalProperties":{"$ref":"#/$defs/o"}}},"##
            + #""required":["city"],"$defs":{"o":{"anyOf":[{"type":"null"},{"type":"number","multipleOf":0.01}]}}}"#
        let (catalog, _) = F.catalog(
            bindings: [F.binding("b1", config: "c1", selected: #"["weather"]"#)], configs: [F.config("c1")],
            tools: [F.tool("weather", config: "c1", schema: schema)])
        let listed = try #require(catalog.tool(named: "weather")).listing
        #expect(listed["inputSchema"]?.jsonText == schema)
    }

    @Test func pagesCoverEveryToolOnceInNameOrder() {
        let names = (0..<23).map { "tool-\(String(format: "%02d", $0))" }.shuffled()
        let catalog = F.catalog(toolNames: names)
        var seen: [String] = []
        var cursor: ToolCatalogCursor?
        var pages = 0
        repeat {
            let page = catalog.page(after: cursor, size: 5)
            seen += page.tools.map(\.name)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 100
        #expect(seen == names.sorted())
        #expect(pages == 5)
    }

    @Test func aCursorStaysValidWhenTheCatalogChanges() throws {
        let before = F.catalog(toolNames: ["a", "b", "c", "d"])
        let cursor = try #require(before.page(after: nil, size: 2).next)
        let after = F.catalog(toolNames: ["a", "aa", "c", "d", "e"])
        #expect(after.page(after: ToolCatalogCursor(token: cursor.token), size: 10).tools.map(\.name) == ["c", "d", "e"])
    }

    @Test func rejectsAForeignCursor() {
        #expect(ToolCatalogCursor(token: "not-base64!") == nil)
        #expect(ToolCatalogCursor(token: "aGVsbG8=") == nil)
    }
}

@Suite struct UpstreamAuthenticationTests {
    func headers(_ type: String?, _ config: String?) throws -> [String: String] {
        let auth = try UpstreamAuthentication.parse(type: type, config: config).get()
        return Dictionary(auth.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    }

    @Test func bearerDefaultsToTheAuthorizationHeader() throws {
        #expect(try headers("BEARER", #"{"token":"t"}"#) == ["Authorization": "Bearer t"])
    }

    @Test func bearerUsesTheGivenHeaderName() throws {
        #expect(try headers("bearer", #"{"token":"t","headerName":"X-Token"}"#) == ["X-Token": "t"])
    }

    @Test func basicEncodesUserAndPassword() throws {
        #expect(try headers("Basic", #"{"username":"u","password":"p"}"#) == ["Authorization": "Basic dTpw"])
    }

    @Test func apiKeyUsesHeaderNameAndPrefix() throws {
        #expect(try headers("ApiKey", #"{"apiKey":"k","headerName":"X-Key","prefix":"Key"}"#) == ["X-Key": "Key k"])
        #expect(try headers("apikey", #"{"apiKey":"k"}"#) == ["X-API-Key": "k"])
    }

    @Test func oauth2SendsItsStoredAccessTokenAsABearer() throws {
        #expect(try headers("OAuth2", #"{"accessToken":"at","refreshToken":"rt"}"#) == ["Authorization": "Bearer at"])
    }

    @Test func noTypeMeansNoHeaders() throws {
        #expect(try headers(nil, nil).isEmpty)
        #expect(try headers("", #"{"token":"t"}"#).isEmpty)
    }

    @Test(arguments: [("bearer", #"{"headerName":"X"}"#), ("basic", "not json"), ("kerberos", "{}"), ("apikey", nil)])
    func refusesUnusableConfigs(type: String, config: String?) {
        #expect(throws: UpstreamAuthenticationError.self) { try UpstreamAuthentication.parse(type: type, config: config).get() }
    }

    @Test func neverDescribesTheSecret() throws {
        let auth = try UpstreamAuthentication.parse(type: "bearer", config: #"{"token":"top-secret"}"#).get()
        let service = UpstreamService(configId: "c", name: "n", endpoint: "https://u:pw@host/mcp?key=qsecret",
                                      transport: .streamableHTTP, authentication: auth, userId: "x")
        for text in ["\(auth)", String(reflecting: auth), "\(service)", service.redactedEndpoint] {
            #expect(!text.contains("top-secret") && !text.contains("qsecret") && !text.contains("pw"))
        }
        #expect(service.redactedEndpoint == "https://host/mcp?…")
    }
}

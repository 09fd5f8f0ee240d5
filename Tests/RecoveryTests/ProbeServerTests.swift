import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing
@testable import Recovery

@Suite struct ProbeServerTests {
    @Test func servesRoutesOverARealSocket() async throws {
        let server = ProbeServer(
            routes: [
                "/healthz": { ProbeResponse(status: 200, text: "ok\n") },
                "/readyz": { ProbeResponse(status: 503, text: "redis: down\n") },
            ],
            logger: Logger(label: "test"))
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"

        let (okBody, ok) = try await get("\(base)/healthz")
        #expect(ok == 200)
        #expect(okBody == "ok\n")
        let (readyBody, ready) = try await get("\(base)/readyz")
        #expect(ready == 503)
        #expect(readyBody == "redis: down\n")
        let (_, missing) = try await get("\(base)/nope")
        #expect(missing == 404)
        let (_, withQuery) = try await get("\(base)/healthz?verbose=1")
        #expect(withQuery == 200, "the query is not part of the route")
        var post = URLRequest(url: URL(string: "\(base)/healthz")!)
        post.httpMethod = "POST"
        let (_, postResponse) = try await URLSession.shared.data(for: post)
        #expect((postResponse as? HTTPURLResponse)?.statusCode == 405)
    }

    @Test func namesTheAddressItCannotBind() throws {
        let first = ProbeServer(routes: [:], logger: Logger(label: "test"))
        try first.start(host: "127.0.0.1", port: 0)
        defer { first.stop() }
        let second = ProbeServer(routes: [:], logger: Logger(label: "test"))
        #expect(throws: ProbeServer.StartError.self) { try second.start(host: "127.0.0.1", port: first.port) }
        #expect(throws: ProbeServer.StartError.self) { try second.start(host: "not-an-ip", port: 0) }
    }

    private func get(_ url: String) async throws -> (String, Int) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return (String(decoding: data, as: UTF8.self), (response as! HTTPURLResponse).statusCode)
    }
}

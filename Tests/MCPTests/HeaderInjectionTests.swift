import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import MCP

/// Authentication headers come from service configs users write: a CR, LF or NUL in a name or value,
/// a name that is not an HTTP token, or a name the pool sets itself is refused, naming the header and
/// never showing the value.
@Suite struct HeaderInjectionTests {
    static let secret = "s3cret-token"

    static let refusedConfigs: [(type: String, config: String, header: String)] = [
        ("bearer", #"{"token":"\#(secret)\r\nX-Injected: 1"}"#, "Authorization"),
        ("bearer", #"{"token":"\#(secret)\nX-Injected: 1","headerName":"X-Token"}"#, "X-Token"),
        ("bearer", #"{"token":"\#(secret)\u0000"}"#, "Authorization"),
        ("oauth2", #"{"accessToken":"\#(secret)\r\n"}"#, "Authorization"),
        ("apikey", #"{"apiKey":"\#(secret)","headerName":"X-Key\r\nX-Injected: \#(secret)"}"#, "X-Key"),
        ("apikey", #"{"apiKey":"\#(secret)","headerName":"X Key"}"#, "X"),
        ("apikey", #"{"apiKey":"\#(secret)","headerName":"X-Key","prefix":"Key\r\n"}"#, "X-Key"),
        ("apikey", #"{"apiKey":"\#(secret)","headerName":"Content-Length"}"#, "Content-Length"),
        ("bearer", #"{"token":"\#(secret)","headerName":"Host"}"#, "Host"),
        ("apikey", #"{"apiKey":"\#(secret)","headerName":"X-User-Id"}"#, "X-User-Id"),
    ]

    @Test(arguments: refusedConfigs)
    func aConfigWhoseHeadersCannotBeSentIsRefused(type: String, config: String, header: String) {
        guard case .failure(let error) = UpstreamAuthentication.parse(type: type, config: config) else {
            Issue.record("accepted \(type) \(config.debugDescription)")
            return
        }
        #expect(error.reason.contains(header), "\(error.reason)")
        #expect(!error.reason.contains(Self.secret), "\(error.reason)")
        #expect(!error.reason.contains("X-Injected"), "\(error.reason)")
    }

    @Test func ordinaryHeadersAreAccepted() throws {
        let apiKey = try UpstreamAuthentication.parse(type: "apikey", config: #"{"apiKey":"k","headerName":"X-Api-Key","prefix":"Key"}"#).get()
        #expect(apiKey.headers.map(\.name) == ["X-Api-Key"])
        let bearer = try UpstreamAuthentication.parse(type: "Bearer", config: #"{"token":"t","headerName":"X-Custom_Token.1"}"#).get()
        #expect(bearer.headerProblem == nil)
    }

    func service(_ authentication: UpstreamAuthentication, userId: String? = "owner") -> UpstreamService {
        UpstreamService(configId: "c", name: "injected", endpoint: "http://127.0.0.1:\((try? closedLoopbackPort()) ?? 9)/mcp",
                        transport: .streamableHTTP, authentication: authentication, userId: userId)
    }

    @Test func aRequestIsNeverBuiltWithABadHeader() throws {
        let url = URL(string: "http://127.0.0.1:9/mcp")!
        let tampered = service(.bearer(token: "\(Self.secret)\r\nX-Injected: 1", headerName: "Authorization"))
        #expect {
            _ = try UpstreamHTTP.request(url: url, method: "POST", service: tampered, accept: "application/json", body: "{}", timeout: 5)
        } throws: { error in
            guard let failure = error as? BridgeFailure else { return false }
            return failure.kind == .invalidHeader && failure.message.contains("Authorization") && !failure.message.contains(Self.secret)
        }
        let badOwner = service(.none, userId: "owner\r\nX-Injected: 1")
        #expect {
            _ = try UpstreamHTTP.request(url: url, method: "POST", service: badOwner, accept: "application/json", body: "{}", timeout: 5)
        } throws: { error in
            (error as? BridgeFailure)?.kind == .invalidHeader && (error as? BridgeFailure)?.message.contains("X-User-Id") == true
        }
        let fine = try UpstreamHTTP.request(url: url, method: "POST", service: service(.bearer(token: "t", headerName: "Authorization")),
                                            accept: "application/json", body: "{}", timeout: 5)
        #expect(fine.value(forHTTPHeaderField: "Authorization") == "Bearer t")
    }

    @Test(arguments: [UpstreamTransport.streamableHTTP, .serverSentEvents])
    func theBridgeAnswersAClearErrorInsteadOfSendingIt(transport: UpstreamTransport) async throws {
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(10)))
        defer { Task { await bridge.shutdown() } }
        var tampered = service(.apiKey(key: Self.secret, headerName: "X-Key\nX-Injected", prefix: nil))
        tampered.transport = transport
        let outcome = await bridge.callTool(ToolCallRequest(toolName: "echo", arguments: nil, service: tampered))
        let failed = try failure(outcome)
        #expect(failed.kind == .invalidHeader)
        #expect(!failed.message.contains(Self.secret) && !failed.message.contains("X-Injected"), "\(failed.message)")
        #expect(!tampered.authentication.description.contains("X-Injected"))
    }
}

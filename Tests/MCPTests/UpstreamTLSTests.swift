import Foundation
import JSON
import Testing
import Transport
@testable import MCP

/// https upstreams through the bridge's own HTTP client: certificates checked against the system store
/// plus the configured CA file, and the same bounds as over plain HTTP.
@Suite struct UpstreamTLSTests {
    static let transports: [UpstreamTransport] = [.streamableHTTP, .serverSentEvents]

    func target(_ peer: HostilePeer, _ transport: UpstreamTransport) -> UpstreamService {
        UpstreamService(configId: "tls-\(transport)", name: "secure", endpoint: transport == .serverSentEvents ? peer.legacyURL : peer.streamableURL,
                        transport: transport, authentication: .bearer(token: "tls-token", headerName: "Authorization"), userId: "owner")
    }

    func echoed(_ outcome: ToolCallOutcome) -> String? {
        guard case .result(let raw) = outcome else { return nil }
        return (try? JSONValue(parsing: raw))?["content"]?.arrayValue?.first?["text"]?.stringValue
    }

    @Test(arguments: transports)
    func aServiceWithATrustedCertificateAnswersAndStaysBounded(transport: UpstreamTransport) async throws {
        let certificates = try TestCertificates.make()
        let peer = try await HostilePeer.start(jsonResponse: false, certificate: certificates)
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(30), idleTimeout: .seconds(5),
                                                   tls: TLSConfiguration(extraCAFile: certificates.caFile)))
        defer { Task { await bridge.shutdown() } }
        let service = target(peer, transport)
        #expect(echoed(await bridge.callTool(ToolCallRequest(toolName: "echo", arguments: .object(["text": .string("over tls")]), service: service))) == "over tls")

        let before = ProcessMemory.residentBytes()
        let sampler = PeakResidentSampler.start()
        let failed = try failure(await bridge.callTool(ToolCallRequest(toolName: "huge", arguments: nil, service: service)))
        let written = try await peer.writtenOnceSettled("huge")
        let peak = sampler.stop()
        print("hostile upstream [https \(transport)] huge: RSS before \(ProcessMemory.mebibytes(before)), peak \(ProcessMemory.mebibytes(peak)) (+\(ProcessMemory.mebibytes(peak - before))); peer wrote \(ProcessMemory.mebibytes(written))")
        #expect(failed.kind == .responseTooLarge)
        #expect(peak - before < HostileUpstreamTests.memoryBound)
        #expect(echoed(await bridge.callTool(ToolCallRequest(toolName: "echo", arguments: .object(["text": .string("again")]), service: service))) == "again")
    }

    @Test(arguments: transports)
    func anUntrustedCertificateIsRefused(transport: UpstreamTransport) async throws {
        let certificates = try TestCertificates.make()
        let peer = try await HostilePeer.start(jsonResponse: false, certificate: certificates)
        // The system store alone does not know the test CA.
        let bridge = UpstreamBridge(options: .init(callTimeout: .seconds(30)))
        defer { Task { await bridge.shutdown() } }
        let failed = try failure(await bridge.callTool(ToolCallRequest(toolName: "echo", arguments: nil, service: target(peer, transport))))
        #expect(failed.kind == .unreachable)
        #expect(failed.message.contains("TLS"), "\(failed.message)")
        #expect(!failed.message.contains("tls-token"))
    }
}

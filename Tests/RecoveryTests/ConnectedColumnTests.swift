import Foundation
import PostgresClient
import Testing
@testable import Recovery

/// `"IsConnected"` is written only by the endpoint's latest session: a worker that lost the endpoint to
/// another (its lease lapsed, the other took it) must not mark it disconnected behind the new holder.
@Suite struct ConnectedColumnTests {
    @Test func onlyTheLatestSessionMarksTheEndpointDisconnected() async throws {
        let schema = try EndpointSchema(prefix: "t_connected_\(UUID().uuidString.prefix(8).lowercased())_")
        let postgres = try await PostgresClient.connect(url: try requiredEnvironment("DATABASE_URL"))
        let directory = PostgresEndpointDirectory(client: postgres, schema: schema)
        func cleanUp() async {
            _ = try? await postgres.execute("DROP TABLE IF EXISTS \(schema.tools), \(schema.bindings), \(schema.serviceConfigs), \(schema.endpoints)")
            await postgres.close()
        }
        func connected() async throws -> Bool? {
            try await postgres.query("SELECT \"IsConnected\" FROM \(schema.endpoints) WHERE \"Id\" = 'e1'").first?.decode(at: 0, as: Bool.self)
        }
        do {
            try await directory.migrate()
            _ = try await postgres.execute(
                "INSERT INTO \(schema.endpoints) (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\") VALUES ('e1', 'one', 'ws://127.0.0.1:9/mcp/?token=t', 'u', true)")
            let first = Date(timeIntervalSince1970: 1_800_000_000)
            let second = first.addingTimeInterval(20)
            try await directory.markConnected(id: "e1", at: first)
            // Another worker took the endpoint over; then the first session's end is written, late.
            try await directory.markConnected(id: "e1", at: second)
            try await directory.markDisconnected(id: "e1", at: second.addingTimeInterval(1), sessionConnectedAt: first)
            #expect(try await connected() == true)
            // A stale "connected" write from the first session changes nothing either.
            try await directory.markConnected(id: "e1", at: first)
            let last = try await postgres.query("SELECT \"LastConnectedAt\" FROM \(schema.endpoints) WHERE \"Id\" = 'e1'").first?.decode(at: 0, as: Date.self)
            #expect(last == second)
            // The latest session's own end is written.
            try await directory.markDisconnected(id: "e1", at: second.addingTimeInterval(30), sessionConnectedAt: second)
            #expect(try await connected() == false)
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}

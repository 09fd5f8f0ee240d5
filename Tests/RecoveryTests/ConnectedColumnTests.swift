import Foundation
import PostgresClient
import RecoveryCore
import Testing
@testable import Recovery

/// `"IsConnected"` is written only by the endpoint's latest session: a worker that lost the endpoint to
/// another (its lease lapsed, the other took it) must not mark it disconnected behind the new holder.
@Suite struct ConnectedColumnTests {
    @Test func onlyTheLatestSessionMarksTheEndpointDisconnected() async throws {
        try await withScratchDirectory("connected") { schema, postgres, directory in
            func connected() async throws -> Bool? {
                try await postgres.query("SELECT \"IsConnected\" FROM \(schema.endpoints) WHERE \"Id\" = 'e1'").first?.decode(at: 0, as: Bool.self)
            }
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
        }
    }

    @Test func concurrentJobsReadRowsAndMarkThemConnectedInBatchesEachRowItsLatest() async throws {
        try await withScratchDirectory("batched") { schema, postgres, directory in
            _ = try await postgres.execute("""
                INSERT INTO \(schema.endpoints) ("Id", "Name", "Address", "UserId", "IsEnabled")
                SELECT 'e' || i, 'endpoint ' || i, 'ws://127.0.0.1:9/mcp/?token=t' || i, 'u', i % 2 = 0 FROM generate_series(1, 200) AS i
                """)
            let base = Date(timeIntervalSince1970: 1_800_000_000)
            // 200 rows and 20 that do not exist, read at once.
            let rows = try await withThrowingTaskGroup(of: (Int, EndpointRecord?).self) { group in
                for i in 1...220 { group.addTask { (i, try await directory.endpoint(id: EndpointID(rawValue: "e\(i)"))) } }
                return try await group.reduce(into: [Int: EndpointRecord?]()) { $0[$1.0] = $1.1 }
            }
            for i in 1...220 {
                let row = rows[i] ?? nil
                #expect(row?.name == (i <= 200 ? "endpoint \(i)" : nil), "e\(i)")
                if i <= 200 { #expect(row?.isEnabled == (i % 2 == 0)) }
            }
            // Every row marked at once, e1 to e10 twice (an older and a newer session), e1 older last.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 1...200 {
                    group.addTask { try await directory.markConnected(id: EndpointID(rawValue: "e\(i)"), at: base.addingTimeInterval(Double(i))) }
                }
                for i in 1...10 {
                    group.addTask { try await directory.markConnected(id: EndpointID(rawValue: "e\(i)"), at: base.addingTimeInterval(Double(1_000 + i))) }
                }
                try await group.waitForAll()
            }
            try await directory.markConnected(id: "e1", at: base)
            let marked = try await postgres.query("SELECT \"Id\", \"IsConnected\", \"LastConnectedAt\" FROM \(schema.endpoints)").map { row in
                (try row.decode(at: 0, as: String.self), try row.decode(at: 1, as: Bool.self), try row.decode(at: 2, as: Date?.self))
            }
            #expect(marked.count == 200)
            for (id, connected, at) in marked {
                let i = Int(id.dropFirst())!
                #expect(connected, "\(id)")
                #expect(at == base.addingTimeInterval(Double(i <= 10 ? 1_000 + i : i)), "\(id)")
            }
        }
    }
}

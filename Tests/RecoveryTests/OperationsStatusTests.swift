import Foundation
import PostgresClient
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// `scheduler status`: the endpoints table combined with the Redis states and parks.
@Suite struct OperationsStatusTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func state(_ id: EndpointID, _ status: ConnectionStatus, instance: String = "worker-7") -> ConnectionState {
        ConnectionState(
            endpointId: id, instanceId: instance, status: status, lastConnectedTime: now, lastHeartbeat: now.addingTimeInterval(-12),
            endpointName: "endpoint", webSocketEndpoint: "wss://api.xiaozhi.me/mcp/?token=secret-token")
    }

    static func row(_ id: EndpointID, _ name: String, enabled: Bool = true) -> EndpointStatusRow {
        EndpointStatusRow(id: id, name: name, isEnabled: enabled, isConnected: false, lastConnectedAt: nil, lastDisconnectedAt: nil)
    }

    @Test func combineNamesEachEndpointsState() {
        let park = ParkedEndpoint(endpointId: "c", reason: "HTTP 401 at the handshake", kind: .permanent, parkedAt: Self.now)
        let transient = ParkedEndpoint(endpointId: "f", reason: "connection refused", kind: .transient, parkedAt: Self.now)
        let readings = EndpointStateReadings(
            states: [
                "a": .decoded(Self.state("a", .connected), raw: ""), "e": .unreadable(raw: "{"),
                "f": .decoded(Self.state("f", .failed), raw: ""), "g": .decoded(Self.state("g", .connecting), raw: ""),
            ],
            parked: ["c": park, "f": transient, "g": park])
        let rows = ["a", "b", "c", "d", "e", "f", "g"].map { Self.row($0, "name-\($0)", enabled: $0 != "d") }

        let statuses = EndpointStatus.combine(rows: rows, readings: readings, parkPeriod: 900)

        #expect(statuses.map(\.state) == ["Connected", "missing", "parked", "-", "unreadable", "parked", "Connecting"])
        #expect(statuses[0].owner == "worker-7" && statuses[0].lastHeartbeat == Self.now.addingTimeInterval(-12))
        #expect(statuses[2].lastError == "HTTP 401 at the handshake" && statuses[2].parkedUntil == nil)
        #expect(statuses[5].parkedUntil == Self.now.addingTimeInterval(900))
        #expect(statuses[1].owner == nil && statuses[1].lastError == nil)
    }

    @Test func tableAlignsWideNamesAndJSONKeepsNulls() {
        let report = EndpointStatusReport(rows: [
            EndpointStatus(id: "a", name: "小智助手", enabled: true, state: "Connected", owner: "w1", lastHeartbeat: Self.now.addingTimeInterval(-5)),
            EndpointStatus(id: "bb", name: "plain", enabled: true, state: "missing"),
        ], takenAt: Self.now)
        let lines = report.table().split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        func column(_ line: String, _ cell: String) -> Int? {
            line.range(of: cell).map { OperatorTable.displayWidth(String(line[..<$0.lowerBound])) }
        }
        let columns = [column(lines[0], "STATE"), column(lines[1], "Connected"), column(lines[2], "missing")]
        #expect(columns[0] != nil && columns[0] == columns[1] && columns[1] == columns[2])
        #expect(lines[1].contains("5s ago"))
        let json = report.json()
        #expect(json.contains("\"name\":\"小智助手\""))
        #expect(json.contains("\"owner\":null"))
        #expect(json.contains("\"lastError\":null"))
    }

    @Test func statusCombinesTheTableWithRedis() async throws {
        let tablePrefix = "t_ops_\(UUID().uuidString.prefix(8).lowercased())_"
        let schema = try EndpointSchema(prefix: tablePrefix)
        let postgres = try await OperationsServers.postgres()
        let redis = try await OperationsServers.redis()
        let store = RedisPoolState(redis: redis)
        let directory = PostgresEndpointDirectory(client: postgres, schema: schema)
        let ids = (0..<4).map { _ in EndpointID(UUID().uuidString.lowercased()) }
        func cleanUp() async {
            _ = try? await redis.delete(ids.map(RedisKeys.connectionState))
            _ = try? await store.markers.unpark(endpointIds: ids)
            _ = try? await postgres.execute("DROP TABLE IF EXISTS \(schema.tools), \(schema.bindings), \(schema.serviceConfigs), \(schema.endpoints)")
            await postgres.close()
            await redis.close()
        }
        do {
            try await directory.migrate()
            for (index, id) in ids.enumerated() {
                _ = try await postgres.execute(
                    "INSERT INTO \(schema.endpoints) (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\") VALUES ($1, $2, $3, $4, $5)",
                    [.text(id.rawValue), .text("endpoint-\(index)"), .text("wss://api.xiaozhi.me/mcp/?token=secret-\(index)"), .text("user-1"), .bool(index != 3)])
            }
            try await redis.set(RedisKeys.connectionState(ids[0]), Self.state(ids[0], .connected, instance: "worker-ops-1").encoded())
            try await store.markers.park(ParkedEndpoint(endpointId: ids[2], reason: "HTTP 403 at the handshake", kind: .permanent, parkedAt: Self.now))

            let report = try await EndpointStatusReader(directory: directory, store: store, parkPeriod: 900).read()

            #expect(report.rows.map(\.id) == ids)
            #expect(report.rows.map(\.state) == ["Connected", "missing", "parked", "-"])
            #expect(report.rows[0].owner == "worker-ops-1")
            #expect(report.rows[0].lastHeartbeat == Self.now.addingTimeInterval(-12))
            #expect(report.rows[2].lastError == "HTTP 403 at the handshake")
            #expect(report.rows.map(\.enabled) == [true, true, true, false])
            #expect(!report.table().contains("secret") && !report.json().contains("secret"))
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}

import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// The lease acquire never connects over a live session of another owner (the original platform's),
/// decided in the same script as the take, on the Redis server's clock.
@Suite struct ForeignSessionAcquireTests {
    let redis: RedisClient
    let store: RedisPoolState
    let timeout = Duration.seconds(90)

    init() async throws {
        redis = try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL"))
        store = RedisPoolState(redis: redis)
    }

    private func newId() -> EndpointID { EndpointID("foreign-" + UUID().uuidString.lowercased()) }

    /// Writes a state as the original platform does: PascalCase, no `Owner`.
    private func writeForeignState(_ id: EndpointID, status: String, heartbeat: String) async throws {
        let json = #"{"ServerId":"\#(id)","InstanceId":"api-1","Status":\#(status),"LastHeartbeat":"\#(heartbeat)","ReconnectAttempts":0,"ServerName":"n"}"#
        _ = try await redis.send("SET", RedisKeys.connectionState(id), json)
    }

    private func acquire(_ id: EndpointID) async throws -> LeaseAcquisition {
        try await store.leases.acquire(endpointId: id, token: "pool-token", ttl: .seconds(10), foreignHeartbeatTimeout: timeout)
    }

    private func iso(_ date: Date) -> String { Timestamp.format(date) }

    @Test func aFreshConnectedStateOfTheOriginalRefusesTheLease() async throws {
        let id = newId()
        try await writeForeignState(id, status: "0", heartbeat: iso(Date()))
        #expect(try await acquire(id) == .foreignSessionLive)
        #expect(try await redis.send("EXISTS", RedisKeys.lease(id)).integer == 0)
    }

    @Test func aFreshConnectingStateOfTheOriginalRefusesTheLease() async throws {
        let id = newId()
        try await writeForeignState(id, status: "2", heartbeat: iso(Date().addingTimeInterval(-30)))
        #expect(try await acquire(id) == .foreignSessionLive)
    }

    @Test func aStatusWrittenAsANameCountsToo() async throws {
        let id = newId()
        try await writeForeignState(id, status: #""Connected""#, heartbeat: iso(Date()))
        #expect(try await acquire(id) == .foreignSessionLive)
    }

    @Test func heartbeatsInEveryISOFormOfTheOriginalAreRead() async throws {
        // .NET writes seven fraction digits and Z; offsets and no zone occur in hand-written states.
        let now = Date()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSxxx"
        let shanghai = formatter.string(from: now)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxx"
        let compactOffset = formatter.string(from: now)
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'0000Z'"
        let sevenDigits = formatter.string(from: now)
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let noZone = formatter.string(from: now)
        for text in [sevenDigits, shanghai, compactOffset, noZone] {
            let id = newId()
            try await writeForeignState(id, status: "0", heartbeat: text)
            #expect(try await acquire(id) == .foreignSessionLive, "heartbeat \(text)")
        }
    }

    @Test func aStaleHeartbeatOfTheOriginalLetsThePoolTakeOver() async throws {
        let id = newId()
        try await writeForeignState(id, status: "0", heartbeat: iso(Date().addingTimeInterval(-91)))
        #expect(try await acquire(id).fence != nil)
    }

    @Test func aDisconnectedOrFailedStateOfTheOriginalDoesNotRefuse() async throws {
        for status in ["1", "3"] {
            let id = newId()
            try await writeForeignState(id, status: status, heartbeat: iso(Date()))
            #expect(try await acquire(id).fence != nil, "status \(status)")
        }
    }

    @Test func thePoolsOwnFreshStateDoesNotRefuse() async throws {
        let id = newId()
        let state = ConnectionState(endpointId: id, instanceId: "worker-a", status: .connected, lastHeartbeat: Date(), endpointName: "n", webSocketEndpoint: "wss://h/mcp/")
        _ = try await redis.send("SET", RedisKeys.connectionState(id), state.encoded())
        #expect(try await acquire(id).fence != nil)
    }

    @Test func anUnreadableStateOrHeartbeatDoesNotRefuse() async throws {
        let garbage = newId()
        _ = try await redis.send("SET", RedisKeys.connectionState(garbage), "not json {")
        #expect(try await acquire(garbage).fence != nil)
        let badDate = newId()
        try await writeForeignState(badDate, status: "0", heartbeat: "yesterday")
        #expect(try await acquire(badDate).fence != nil)
    }

    @Test func withoutTheTimeoutTheStateIsNotLookedAt() async throws {
        let id = newId()
        try await writeForeignState(id, status: "0", heartbeat: iso(Date()))
        #expect(try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(10)) == 1)
    }

    @Test func aLeaseTakenAgainAfterALapseIsRefusedOverTheOriginalsSession() async throws {
        let mine = newId(), overtaken = newId()
        try await writeForeignState(overtaken, status: "0", heartbeat: iso(Date()))
        let fences = try await store.leases.reacquire([mine: "a", overtaken: "b"], ttl: .seconds(10), foreignHeartbeatTimeout: timeout).fences
        #expect(Set(fences.keys) == [mine])
    }
}

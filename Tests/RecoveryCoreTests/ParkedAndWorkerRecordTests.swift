import Foundation
import Testing
@testable import RecoveryCore

@Suite struct ParkedEndpointTests {
    let parkedAt = Date(timeIntervalSince1970: 1_000)
    let rowTime = Date(timeIntervalSince1970: 500)

    @Test func roundTrips() throws {
        let parked = ParkedEndpoint(endpointId: "s", reason: "connection refused", kind: .transient, parkedAt: parkedAt,
                                    until: parkedAt.addingTimeInterval(60), endpointUpdatedAt: rowTime)
        #expect(try ParkedEndpoint.decode(Data(parked.encoded().utf8)) == parked)
        let bare = ParkedEndpoint(endpointId: "s", reason: "HTTP 401", kind: .permanent, parkedAt: parkedAt)
        #expect(try ParkedEndpoint.decode(Data(bare.encoded().utf8)) == bare)
    }

    @Test func malformedValueNamesTheField() {
        #expect(throws: MessageDecodingError.invalidValue(.parkedEndpoint, field: "kind", value: "forever", expected: "one of transient, permanent")) {
            try ParkedEndpoint.decode(Data(#"{"serverId":"s","reason":"r","kind":"forever","parkedAt":"2026-01-01T00:00:00Z"}"#.utf8))
        }
    }

    @Test func transientParkLastsThePeriod() {
        let parked = ParkedEndpoint(endpointId: "s", reason: "r", kind: .transient, parkedAt: parkedAt, endpointUpdatedAt: rowTime)
        #expect(parked.isActive(now: parkedAt.addingTimeInterval(59), endpointUpdatedAt: rowTime, parkPeriod: 60))
        #expect(!parked.isActive(now: parkedAt.addingTimeInterval(60), endpointUpdatedAt: rowTime, parkPeriod: 60))
    }

    @Test func permanentParkIgnoresUntilAndThePeriod() {
        let parked = ParkedEndpoint(endpointId: "s", reason: "r", kind: .permanent, parkedAt: parkedAt, until: parkedAt, endpointUpdatedAt: rowTime)
        #expect(parked.isActive(now: parkedAt.addingTimeInterval(1e7), endpointUpdatedAt: rowTime, parkPeriod: 60))
    }

    @Test func anyRowChangeEndsThePark() {
        let parked = ParkedEndpoint(endpointId: "s", reason: "r", kind: .permanent, parkedAt: parkedAt, endpointUpdatedAt: rowTime)
        #expect(!parked.isActive(now: parkedAt, endpointUpdatedAt: rowTime.addingTimeInterval(1), parkPeriod: 60))
        #expect(!parked.isActive(now: parkedAt, endpointUpdatedAt: rowTime.addingTimeInterval(-1), parkPeriod: 60))
    }

    @Test func unknownRowTimeKeepsTheParkUntilARowChangeIsVisible() {
        let parked = ParkedEndpoint(endpointId: "s", reason: "r", kind: .permanent, parkedAt: parkedAt)
        #expect(parked.isActive(now: parkedAt, endpointUpdatedAt: nil, parkPeriod: 60))
        #expect(parked.isActive(now: parkedAt, endpointUpdatedAt: parkedAt, parkPeriod: 60))
        #expect(!parked.isActive(now: parkedAt, endpointUpdatedAt: parkedAt.addingTimeInterval(1), parkPeriod: 60))
    }
}

@Suite struct WorkerRecordTests {
    @Test func roundTrips() throws {
        let record = WorkerRecord(instanceId: "h:1:a", host: "h", pid: 1, startedAt: Date(timeIntervalSince1970: 5),
                                  heartbeatAt: Date(timeIntervalSince1970: 9), sessions: 3, capacity: 500)
        #expect(try WorkerRecord.decode(Data(record.encoded().utf8)) == record)
        #expect(record.version == PoolVersion.current)
        #expect(record.encoded().contains("\"version\":\"\(PoolVersion.current)\""))
    }

    @Test func aRecordOfAnEarlierReleaseHasNoVersion() throws {
        let earlier = try WorkerRecord.decode(Data(#"{"instanceId":"w","host":"h","pid":1,"startedAt":"2026-01-01T00:00:00Z","heartbeatAt":"2026-01-01T00:00:00Z","sessions":1,"capacity":1}"#.utf8))
        #expect(earlier.version == nil)
    }

    @Test func negativeSessionsAreRejected() {
        #expect(throws: MessageDecodingError.self) {
            try WorkerRecord.decode(Data(#"{"instanceId":"w","host":"h","pid":1,"startedAt":"2026-01-01T00:00:00Z","heartbeatAt":"2026-01-01T00:00:00Z","sessions":-1,"capacity":1}"#.utf8))
        }
    }
}

@Suite struct ParkPrecisionTests {
    @Test func aRowTimeWithMicrosecondsStillMatchesItsStoredMilliseconds() throws {
        let rowTime = Date(timeIntervalSince1970: 1_790_000_000.123456)
        let stored = try ParkedEndpoint.decode(Data(ParkedEndpoint(
            endpointId: "s", reason: "r", kind: .permanent, parkedAt: rowTime, endpointUpdatedAt: rowTime).encoded().utf8))
        #expect(stored.isActive(now: rowTime.addingTimeInterval(5), endpointUpdatedAt: rowTime, parkPeriod: 60))
        #expect(!stored.isActive(now: rowTime.addingTimeInterval(5), endpointUpdatedAt: rowTime.addingTimeInterval(0.002), parkPeriod: 60))
    }
}

import Foundation
import JSON
@testable import RecoveryCore
import Testing

@Suite struct CapacityAlarmTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func worker(_ id: String, capacity: Int) -> WorkerRecord {
        WorkerRecord(instanceId: id, host: "h", pid: 1, startedAt: start, heartbeatAt: start, sessions: 0, capacity: capacity)
    }

    func capacity(slots: Int, enabled: Int) -> ClusterCapacity {
        ClusterCapacity(workers: 1, slots: slots, enabled: enabled)
    }

    @Test func capacityIsTheSumOfTheLiveWorkersSlots() {
        let capacity = ClusterCapacity(liveWorkers: [worker("a", capacity: 500), worker("b", capacity: 250)], enabled: 900)
        #expect(capacity.slots == 750 && capacity.workers == 2 && capacity.shortfall == 150 && capacity.isExceeded)
        #expect(ClusterCapacity(liveWorkers: [worker("a", capacity: 500)], enabled: 500).shortfall == 0)
        #expect(ClusterCapacity(liveWorkers: [], enabled: 3).shortfall == 3)
    }

    @Test func aShortfallIsRaisedOnItsSecondCycleNotItsFirst() {
        var alarm = CapacityAlarm()
        #expect(alarm.observe(capacity(slots: 10, enabled: 12), now: start) == nil)
        #expect(alarm.observe(capacity(slots: 10, enabled: 12), now: start + 30) == .raise(capacity(slots: 10, enabled: 12)))
        #expect(alarm.isRaised)
    }

    @Test func aShortfallOfOneCycleIsNeverRaisedNorCleared() {
        var alarm = CapacityAlarm()
        #expect(alarm.observe(capacity(slots: 0, enabled: 12), now: start) == nil)
        #expect(alarm.observe(capacity(slots: 20, enabled: 12), now: start + 30) == nil)
        #expect(alarm.observe(capacity(slots: 0, enabled: 12), now: start + 60) == nil)
    }

    @Test func aLastingShortfallIsRepeatedOnlyAfterTheReminderIntervalOrWhenItGrows() {
        var alarm = CapacityAlarm(reminderInterval: 600)
        _ = alarm.observe(capacity(slots: 10, enabled: 12), now: start)
        #expect(alarm.observe(capacity(slots: 10, enabled: 12), now: start + 30) != nil)
        #expect(alarm.observe(capacity(slots: 10, enabled: 12), now: start + 60) == nil)
        #expect(alarm.observe(capacity(slots: 10, enabled: 11), now: start + 90) == nil)
        #expect(alarm.observe(capacity(slots: 10, enabled: 15), now: start + 120) == .raise(capacity(slots: 10, enabled: 15)))
        #expect(alarm.observe(capacity(slots: 10, enabled: 15), now: start + 700) == nil)
        #expect(alarm.observe(capacity(slots: 10, enabled: 15), now: start + 720) == .raise(capacity(slots: 10, enabled: 15)))
    }

    @Test func enoughCapacityAfterAnAlarmIsSaidOnce() {
        var alarm = CapacityAlarm()
        _ = alarm.observe(capacity(slots: 10, enabled: 12), now: start)
        _ = alarm.observe(capacity(slots: 10, enabled: 12), now: start + 30)
        #expect(alarm.observe(capacity(slots: 20, enabled: 12), now: start + 60) == .clear(capacity(slots: 20, enabled: 12)))
        #expect(!alarm.isRaised)
        #expect(alarm.observe(capacity(slots: 20, enabled: 12), now: start + 90) == nil)
    }

    @Test func theCheckReportCarriesTheCapacityInItsJSON() throws {
        var report = ReconcileReport(generatedAt: start)
        report.capacity = ClusterCapacity(workers: 2, slots: 10, enabled: 12)
        let json = String(decoding: report.jsonData(), as: UTF8.self)
        #expect(json.contains(#""capacity":{"#) && json.contains(#""shortfall":2"#))
        let capacity = try #require(try JSONValue(parsing: Array(report.jsonData()))["capacity"])
        #expect(ClusterCapacity(json: capacity) == report.capacity)
    }
}

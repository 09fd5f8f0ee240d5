import Testing
@testable import RecoveryCore

@Suite("Renewal slots")
struct RenewalSlotsTests {
    @Test("ids fill the least filled slot, so a burst of joins spreads evenly")
    func spreadsEvenly() {
        var slots = RenewalSlots(count: 4)
        for index in 0..<10 { slots.insert(EndpointID("id-\(index)")) }
        #expect(slots.sizes == [3, 3, 2, 2])
        #expect(slots.slot(of: "id-0") == 0)
        #expect(slots.slot(of: "id-5") == 1)
    }

    @Test("every id is renewed by exactly one tick in each round of count ticks")
    func eachRoundCoversEveryIdOnce() {
        var slots = RenewalSlots(count: 3)
        let ids = (0..<20).map { EndpointID("endpoint-\($0)") }
        for id in ids { slots.insert(id) }
        for roundStart in [0, 3, 30] {
            var seen: [EndpointID] = []
            for tick in roundStart..<(roundStart + 3) { seen += slots.members(forTick: tick) }
            #expect(seen.sorted() == ids.sorted())
        }
    }

    @Test("a placed id keeps its slot; a removed one leaves room that the next join takes")
    func insertIsIdempotentAndRemoveFrees() {
        var slots = RenewalSlots(count: 2)
        #expect(slots.insert("a") == 0)
        #expect(slots.insert("b") == 1)
        #expect(slots.insert("a") == 0)
        #expect(slots.sizes == [1, 1])
        slots.remove("b")
        slots.remove("never-placed")
        #expect(slots.slot(of: "b") == nil)
        #expect(slots.sizes == [1, 0])
        #expect(slots.insert("c") == 1)
        slots.removeAll()
        #expect(slots.sizes == [0, 0])
        #expect(slots.members(forTick: 0).isEmpty)
    }

    @Test("a count below one is one slot that every tick renews")
    func clampsToOne() {
        var slots = RenewalSlots(count: 0)
        slots.insert("a")
        slots.insert("b")
        #expect(slots.count == 1)
        #expect(slots.members(forTick: 7) == ["a", "b"])
        #expect(slots.members(forTick: -1) == ["a", "b"])
    }

    @Test("the slot count keeps ticks at least the minimum apart, within the maximum")
    func slotCountForInterval() {
        #expect(RenewalSlots.count(interval: .milliseconds(1333), minimumTick: .milliseconds(100), maximum: 8) == 8)
        #expect(RenewalSlots.count(interval: .milliseconds(333), minimumTick: .milliseconds(100), maximum: 8) == 3)
        #expect(RenewalSlots.count(interval: .milliseconds(50), minimumTick: .milliseconds(100), maximum: 8) == 1)
        #expect(RenewalSlots.count(interval: .seconds(2), minimumTick: .zero, maximum: 8) == 8)
    }
}

import Testing
@testable import Transport

/// The bookkeeping that bounds an HTTP server's connections.
@Suite struct HTTPConnectionSlotsTests {
    @Test func theOldestHeadReaderGivesWayWhenFullAndRespondersNever() {
        var slots = HTTPConnectionSlots(capacity: 2)
        guard case .admitted(let first) = slots.admit(), case .admitted(let second) = slots.admit() else {
            Issue.record("the first two connections are admitted")
            return
        }
        let secondResponds = slots.startResponding(second)
        #expect(secondResponds)
        // Full: the first (still reading) gives way to the third.
        guard case .admittedEvicting(let third, let evicted) = slots.admit() else {
            Issue.record("a full server evicts the oldest head reader")
            return
        }
        #expect(evicted == first)
        #expect(slots.phase(of: first) == .evicted)
        let evictedResponds = slots.startResponding(first)
        #expect(!evictedResponds, "an evicted connection does not answer")
        #expect(slots.occupied == 2)
        let thirdResponds = slots.startResponding(third)
        #expect(thirdResponds)
        // Everyone answering: a new connection is refused.
        let refused = slots.admit()
        #expect(refused == .refused)
        slots.release(first)
        slots.release(second)
        #expect(slots.registered == 1)
        guard case .admitted = slots.admit() else {
            Issue.record("a released slot admits again")
            return
        }
    }
}

import Testing
@testable import Transport

@Suite("Which TLS tickets are kept")
struct TicketShelvesTests {
    @Test("each ticket is taken once, newest first; past the per-server cap the oldest go")
    func perServerCap() {
        var shelves = TicketShelves<Int>(perServer: 3, budget: 10)
        var dropped: [Int] = []
        for ticket in 1...5 { dropped += shelves.store(ticket, for: "a:443") }
        #expect(dropped == [1, 2])
        #expect(shelves.take(for: "a:443") { _ in true }.chosen == 5)
        #expect(shelves.take(for: "a:443") { _ in true }.chosen == 4)
        #expect(shelves.take(for: "a:443") { _ in true }.chosen == 3)
        #expect(shelves.take(for: "a:443") { _ in true }.chosen == nil)
        #expect(shelves.count == 0 && shelves.servers == 0)
    }

    @Test("a burst of handshakes finds as many tickets as the burst before it brought")
    func burstsAreServed() {
        var shelves = TicketShelves<Int>(perServer: 1024, budget: 16_384)
        // 256 handshakes finish together, two tickets each, then 256 connects start together.
        for ticket in 0..<512 { _ = shelves.store(ticket, for: "xiaozhi:443") }
        let served = (0..<256).filter { _ in shelves.take(for: "xiaozhi:443") { _ in true }.chosen != nil }.count
        #expect(served == 256)
        #expect(shelves.count == 256)
    }

    @Test("unusable tickets passed over are handed back for release and no longer counted")
    func unusableReturned() {
        var shelves = TicketShelves<Int>(perServer: 8, budget: 8)
        for ticket in 1...4 { _ = shelves.store(ticket, for: "a:443") }
        let (chosen, unusable) = shelves.take(for: "a:443") { $0 < 3 }
        #expect(chosen == 2)
        #expect(unusable == [4, 3])
        #expect(shelves.count == 1)
        #expect(shelves.take(for: "b:443") { _ in true }.chosen == nil)
    }

    @Test("the budget bounds all servers together: others' shelves are emptied, never the one just stored to")
    func budgetAcrossServers() {
        var shelves = TicketShelves<Int>(perServer: 4, budget: 6)
        var dropped: [Int] = []
        for server in 0..<3 {
            for ticket in 0..<2 { dropped += shelves.store(server * 10 + ticket, for: "s\(server):443") }
        }
        #expect(dropped.isEmpty && shelves.count == 6)
        dropped += shelves.store(99, for: "s3:443")
        #expect(dropped.count == 2)
        #expect(shelves.count == 5 && shelves.servers == 3)
        #expect(shelves.tickets(for: "s3:443") == 1)
        // Many servers, one ticket each: never more than the budget kept.
        for server in 100..<200 { _ = shelves.store(server, for: "s\(server):443") }
        #expect(shelves.count <= 6)
        #expect(shelves.tickets(for: "s199:443") == 1)
    }
}

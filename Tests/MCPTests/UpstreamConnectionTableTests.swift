import Testing
@testable import MCP

/// The bridge's table of upstream sessions: bounded with least-recently-used eviction of idle ones,
/// and pruned when no session holds a service any more.
@Suite struct UpstreamConnectionTableTests {
    static func service(_ n: Int) -> UpstreamService {
        UpstreamService(configId: "c\(n)", name: "s\(n)", endpoint: "http://127.0.0.1:1/mcp", transport: .streamableHTTP,
                        authentication: .none, userId: "u")
    }

    /// Checks out a connection named after the service, made only when there is none.
    func take(_ table: inout UpstreamConnectionTable<String>, _ n: Int) -> (lease: UpstreamConnectionTable<String>.Lease, evicted: [String])? {
        guard case .ready(let lease, let evicted) = table.checkout(Self.service(n), make: { "conn-\(n)" }) else { return nil }
        return (lease, evicted)
    }

    @Test func theLeastRecentlyUsedIdleConnectionMakesRoom() throws {
        var table = UpstreamConnectionTable<String>(capacity: 3)
        for n in 1...3 {
            let taken = try #require(take(&table, n))
            _ = table.checkin(Self.service(n), serial: taken.lease.serial)
        }
        // Service 1 used again: 2 is now the least recently used.
        let again = try #require(take(&table, 1))
        _ = table.checkin(Self.service(1), serial: again.lease.serial)
        let fourth = try #require(take(&table, 4))
        #expect(fourth.evicted == ["conn-2"])
        #expect(table.count == 3)
        #expect(!table.hasConnection(for: Self.service(2)))
        #expect(table.hasConnection(for: Self.service(1)) && table.hasConnection(for: Self.service(3)))
    }

    @Test func busyConnectionsAreNeverEvictedAndAFullTableRefuses() throws {
        var table = UpstreamConnectionTable<String>(capacity: 2)
        _ = try #require(take(&table, 1))
        _ = try #require(take(&table, 2))
        guard case .full = table.checkout(Self.service(3), make: { "conn-3" }) else {
            Issue.record("a table of busy connections made room")
            return
        }
        #expect(table.count == 2)
        // An existing service's connection is still handed out.
        #expect(take(&table, 1)?.lease.connection == "conn-1")
    }

    @Test func aServiceNoSessionHoldsIsClosed() throws {
        var table = UpstreamConnectionTable<String>(capacity: 10)
        let a = Self.service(1)
        table.hold([a])
        table.hold([a])
        let taken = try #require(take(&table, 1))
        _ = table.checkin(a, serial: taken.lease.serial)
        #expect(table.release([a]).isEmpty, "still held by the other session")
        #expect(table.holderCount(of: a) == 1)
        #expect(table.release([a]) == ["conn-1"])
        #expect(table.count == 0)
        // Releasing what is not held does nothing.
        #expect(table.release([a]).isEmpty)
    }

    @Test func aBusyConnectionIsClosedWhenItsLastCallEnds() throws {
        var table = UpstreamConnectionTable<String>(capacity: 10)
        let a = Self.service(1)
        table.hold([a])
        let first = try #require(take(&table, 1))
        let second = try #require(take(&table, 1))
        #expect(table.release([a]).isEmpty)
        #expect(table.checkin(a, serial: first.lease.serial) == nil)
        #expect(table.checkin(a, serial: second.lease.serial) == "conn-1")
        #expect(table.count == 0)
    }

    @Test func holdingAgainBeforeTheLastCallEndsKeepsTheConnection() throws {
        var table = UpstreamConnectionTable<String>(capacity: 10)
        let a = Self.service(1)
        table.hold([a])
        let taken = try #require(take(&table, 1))
        _ = table.release([a])
        table.hold([a])
        #expect(table.checkin(a, serial: taken.lease.serial) == nil)
        #expect(table.hasConnection(for: a))
    }

    @Test func aStaleCheckinDoesNotTouchALaterConnection() throws {
        var table = UpstreamConnectionTable<String>(capacity: 10)
        let a = Self.service(1)
        table.hold([a])
        let old = try #require(take(&table, 1))
        _ = table.release([a])
        #expect(table.checkin(a, serial: old.lease.serial) == "conn-1")
        table.hold([a])
        let fresh = try #require(take(&table, 1))
        #expect(fresh.lease.serial != old.lease.serial)
        // A second checkin of the old lease must not count against the new connection's call.
        #expect(table.checkin(a, serial: old.lease.serial) == nil)
        #expect(table.release([a]).isEmpty, "the new connection still has its call running")
        #expect(table.checkin(a, serial: fresh.lease.serial) == "conn-1")
    }
}

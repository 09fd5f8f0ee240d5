import Testing
@testable import RecoveryCore

@Suite("Recent enabled list")
struct RecentEnabledListTests {
    static let endpoints = [EnabledEndpoint(id: "a", name: "A", updatedAt: nil)]

    @Test("a kept list is reused until it is one check interval old, never before it is read")
    func reusedWithinItsAgeOnly() {
        let start = ContinuousClock.now
        var list = RecentEnabledList(maxAge: .seconds(2))
        #expect(list.reusable(at: start) == nil)
        list.keep(Self.endpoints, readAt: start)
        #expect(list.reusable(at: start) == Self.endpoints)
        #expect(list.reusable(at: start + .milliseconds(1_999)) == Self.endpoints)
        #expect(list.reusable(at: start + .seconds(2)) == nil)
        #expect(list.reusable(at: start - .milliseconds(1)) == nil)
    }

    @Test("a newer read replaces the kept list and its age")
    func newerReadReplaces() {
        let start = ContinuousClock.now
        var list = RecentEnabledList(maxAge: .seconds(2))
        list.keep(Self.endpoints, readAt: start)
        list.keep([], readAt: start + .seconds(3))
        #expect(list.reusable(at: start + .seconds(4)) == [])
        #expect(list.reusable(at: start + .seconds(5)) == nil)
    }
}

import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// The held-sessions index (`mcp:recovery:held`) as the lease and state scripts keep it, and the
/// scheduler's read of it, against the real Redis of the test servers.
@Suite struct HeldSessionsIndexTests {
    let store: RedisPoolState
    var redis: RedisClient { store.redis }

    init() async throws {
        store = RedisPoolState(redis: try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL")))
    }

    private func newId() -> EndpointID { EndpointID("held-" + UUID().uuidString.lowercased()) }

    private func state(_ id: EndpointID) -> ConnectionState {
        ConnectionState(endpointId: id, instanceId: "worker-a", status: .connected, lastHeartbeat: Date(), endpointName: "n", webSocketEndpoint: "ws://h/mcp/")
    }

    /// The member's score (its lease deadline, server milliseconds), nil when not a member.
    private func deadline(_ id: EndpointID) async throws -> Int64? {
        guard let text = try await redis.send("ZSCORE", RedisKeys.heldSessions, id).string else { return nil }
        return Int64(text)
    }

    private func serverMilliseconds() async throws -> Int64 {
        let time = try await redis.send("TIME").array ?? []
        return Int64(time[0].string ?? "0")! * 1000 + Int64(time[1].string ?? "0")! / 1000
    }

    private func version() async throws -> String {
        try await redis.send("GET", RedisKeys.heldSessionsVersion).string ?? ""
    }

    @Test func aStateWriteJoinsTheIndexWithItsLeaseDeadline() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(30))
        #expect(try await deadline(id) == nil)
        let before = try await serverMilliseconds()
        #expect(try await store.states.write(state(id), token: "t"))
        let after = try await serverMilliseconds()
        let score = try #require(try await deadline(id))
        #expect(score >= before + 29_000 && score <= after + 30_000)
    }

    @Test func aStateWriteWithoutTheLeaseDoesNotJoin() async throws {
        let id = newId()
        #expect(try await store.states.write(state(id), token: "nobody") == false)
        #expect(try await deadline(id) == nil)
    }

    @Test func renewalMovesTheDeadlineButNeverAddsALeaseWithoutState() async throws {
        let withState = newId(), connecting = newId()
        _ = try await store.leases.acquire(endpointId: withState, token: "a", ttl: .seconds(5))
        _ = try await store.leases.acquire(endpointId: connecting, token: "b", ttl: .seconds(5))
        _ = try await store.states.write(state(withState), token: "a")
        let first = try #require(try await deadline(withState))
        let lost = try await store.leases.renew([withState: "a", connecting: "b"], ttl: .seconds(60))
        #expect(lost.isEmpty)
        let renewed = try #require(try await deadline(withState))
        #expect(renewed >= first + 50_000)
        #expect(try await deadline(connecting) == nil)
        let ttl = try await redis.send("PTTL", RedisKeys.lease(withState)).integer ?? 0
        #expect(ttl > 50_000)
    }

    @Test func aRenewalWithTheWrongTokenLeavesTheDeadline() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "a", ttl: .seconds(5))
        _ = try await store.states.write(state(id), token: "a")
        let first = try #require(try await deadline(id))
        #expect(try await store.leases.renew([id: "intruder"], ttl: .seconds(60)) == [id])
        #expect(try await deadline(id) == first)
    }

    @Test func membershipChangesMoveTheVersionHeartbeatsDoNot() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(30))
        _ = try await store.states.write(state(id), token: "t")
        // Other suites change the index concurrently: a version read before a change differs after it,
        // and the scheduler's cache only needs "differs". A heartbeat of a member is checked by its score
        // staying a member and the script reporting no join.
        let joined = try await version()
        #expect(!joined.isEmpty)
        #expect(try await store.states.write([(state(id), "t")]).isEmpty)
        #expect(try await deadline(id) != nil)
        #expect(try await store.states.releaseSession(endpointId: id, token: "t"))
        #expect(try await deadline(id) == nil)
        #expect(try await version() != joined)
    }

    @Test func releasingTheLeaseLeavesTheIndex() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(30))
        _ = try await store.states.write(state(id), token: "t")
        #expect(try await store.leases.release(endpointId: id, token: "other") == false)
        #expect(try await deadline(id) != nil)
        #expect(try await store.leases.release(endpointId: id, token: "t"))
        #expect(try await deadline(id) == nil)
    }

    @Test func deletingAStaleStateLeavesTheIndex() async throws {
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(30))
        _ = try await store.states.write(state(id), token: "t")
        guard case .decoded(_, let raw) = try await store.states.read(endpointId: id) else {
            Issue.record("state not written")
            return
        }
        #expect(try await store.reconcile.deleteStaleState(StaleState(endpointId: id, reason: .leaseLost, storedValue: raw)))
        #expect(try await deadline(id) == nil)
    }

    @Test func aFreshVersionStartsAtTheServersMicrosecondsSoItNeverRepeats() async throws {
        // The scripts take their keys as arguments: a private index and version make the reset observable.
        let held = "test:" + newId().rawValue + ":held", version = "test:" + newId().rawValue + ":version"
        let id = newId()
        _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .seconds(30))
        let write = RedisScript(LuaScripts.writeStateIfLeaseHeld)
        let keys = [RedisKeys.lease(id), RedisKeys.connectionState(id), "test:" + newId().rawValue + ":index", held, version]
        let before = try await serverMilliseconds()
        #expect(try await redis.evaluate(write, keys: keys, arguments: ["t", state(id).encoded(), id]) == .integer(1))
        let first = try #require(Int64(try await redis.send("GET", version).string ?? ""))
        #expect(first >= before * 1000)
        // The database loses the index (a flush): the next join starts a version above every earlier one.
        _ = try await redis.send("DEL", held, version)
        #expect(try await redis.evaluate(write, keys: keys, arguments: ["t", state(id).encoded(), id]) == .integer(1))
        let second = try #require(Int64(try await redis.send("GET", version).string ?? ""))
        #expect(second > first)
        // A version someone overwrote with text is replaced, and the write still succeeds.
        _ = try await redis.send("DEL", held)
        _ = try await redis.send("SET", version, "not a number")
        #expect(try await redis.evaluate(write, keys: keys, arguments: ["t", state(id).encoded(), id]) == .integer(1))
        let third = try #require(Int64(try await redis.send("GET", version).string ?? ""))
        #expect(third > second)
        _ = try await redis.send("DEL", held, version, keys[2])
        _ = try await store.states.releaseSession(endpointId: id, token: "t")
    }

    @Test func theSchedulerReadsOnlyWhatTheIndexDoesNotVouchFor() async throws {
        let held = newId(), lapsed = newId(), missing = newId()
        for (id, ttl) in [(held, Duration.seconds(30)), (lapsed, .milliseconds(150))] {
            _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: ttl)
            #expect(try await store.states.write(state(id), token: "t"))
        }
        try await Task.sleep(for: .milliseconds(400))
        var cache = HeldSessionsCache()
        let enabled = [held, lapsed, missing].map { EnabledEndpoint(id: $0, name: $0.rawValue, updatedAt: nil) }
        let observed = try await store.reconcile.observe(enabled: enabled, cache: &cache, fullRead: false)
        #expect(observed.scope.held.vouchesFor(held))
        #expect(observed.observations[held] == nil)
        #expect(observed.scope.held.lapsed.contains(lapsed))
        let lapsedRead = try #require(observed.observations[lapsed])
        #expect(lapsedRead.leaseHeld == false)
        #expect(observed.observations[missing] == nil)

        let plan = ReconcilePlanner(policy: ReconcilePolicy()).plan(observed.input(now: Date()))
        // Other suites' sessions share the database: look at this test's ids only.
        let mine = Set([held, lapsed, missing])
        #expect(plan.report.live == [held])
        #expect(plan.report.stale.filter(mine.contains) == [lapsed])
        #expect(plan.report.missing == [missing])

        // The cache holds the members: while nothing joins or leaves, the next read brings none back.
        let cachedVersion = cache.version
        let again = try await store.redis.evaluate(
            RedisScript(LuaScripts.observeHeldSessions), keys: [RedisKeys.heldSessions, RedisKeys.heldSessionsVersion], arguments: [cachedVersion])
        let reading = try RedisReconcileReader.heldReading(again)
        if reading.version == cachedVersion { #expect(reading.members == nil) } else { #expect(reading.members != nil) }

        #expect(try await store.states.releaseSession(endpointId: held, token: "t"))
        _ = try await store.reconcile.deleteStaleState(try #require(plan.staleStates.first { $0.endpointId == lapsed }))
    }

    @Test func forgettingDropsOnlyMembersStillPastTheirDeadline() async throws {
        let lapsed = newId(), renewed = newId()
        for id in [lapsed, renewed] {
            _ = try await store.leases.acquire(endpointId: id, token: "t", ttl: .milliseconds(150))
            _ = try await store.states.write(state(id), token: "t")
        }
        try await Task.sleep(for: .milliseconds(400))
        _ = try await store.leases.acquire(endpointId: renewed, token: "u", ttl: .seconds(30))
        _ = try await store.states.write(state(renewed), token: "u")
        #expect(try await store.reconcile.forgetLapsedSessions([lapsed, renewed]) == 1)
        #expect(try await deadline(lapsed) == nil)
        #expect(try await deadline(renewed) != nil)
        _ = try await store.states.releaseSession(endpointId: renewed, token: "u")
    }

    @Test func lapsesAreCountedFromAGivenServerTimeOnly() async throws {
        // A private index: its members' deadlines are set by hand around the server's clock.
        let index = "test:" + newId().rawValue + ":held"
        let now = try await serverMilliseconds()
        _ = try await redis.send("ZADD", index, now - 1_000, "lapsed-a-second-ago", now - 10_000, "lapsed-long-ago", now + 60_000, "ahead")
        let count = RedisScript(LuaScripts.countLapsesSince)
        let sinceEarlier = try await redis.evaluate(count, keys: [index], arguments: [now - 5_000]).array ?? []
        #expect(sinceEarlier.count == 2 && sinceEarlier[1] == .integer(1))
        #expect((sinceEarlier.first?.integer ?? 0) >= now)
        let sinceAll = try await redis.evaluate(count, keys: [index], arguments: [now - 20_000]).array ?? []
        #expect(sinceAll.count == 2 && sinceAll[1] == .integer(2))
        let sinceNow = try await redis.evaluate(count, keys: [index], arguments: [now]).array ?? []
        #expect(sinceNow.count == 2 && sinceNow[1] == .integer(0))
        _ = try await redis.send("DEL", index)
    }

    @Test func theReadReportsTheServersClockForTheLapseWatch() async throws {
        let before = try await serverMilliseconds()
        var cache = HeldSessionsCache()
        let observed = try await store.reconcile.observe(enabled: [], cache: &cache, fullRead: false)
        #expect(observed.serverTime >= before)
        let (_, later) = try await store.reconcile.lapsesSince(serverTime: observed.serverTime)
        #expect(later >= observed.serverTime)
    }
}

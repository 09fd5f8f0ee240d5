import Testing
@testable import RecoveryCore

@Suite struct TopologyTests {
    let topology = try! Topology()

    @Test func namesLiveUnderTheDefaultPrefix() {
        #expect(topology.jobsQueue == "mcp.recovery.jobs")
        #expect(topology.deadQueue == "mcp.recovery.dead")
        #expect(topology.resultsQueue == "mcp.recovery.results")
        #expect(topology.queueNames == [
            "mcp.recovery.jobs", "mcp.recovery.retry.5s", "mcp.recovery.retry.15s", "mcp.recovery.retry.45s",
            "mcp.recovery.retry.135s", "mcp.recovery.retry.300s", "mcp.recovery.dead", "mcp.recovery.results",
            "mcp.recovery.dead.watch",
        ])
        #expect(topology.exchanges.map(\.name) == [
            "mcp.recovery.jobs", "mcp.recovery.retry", "mcp.recovery.dlx", "mcp.recovery.results", "mcp.recovery.control",
        ])
        #expect(topology.exchanges.allSatisfy { $0.durable && $0.kind == .direct })
    }

    @Test func jobsQueueIsQuorumWithDeliveryLimitAndSafeDeadLettering() throws {
        let jobs = try #require(topology.queues.first { $0.name == "mcp.recovery.jobs" })
        #expect(jobs.durable && !jobs.exclusive && !jobs.autoDelete)
        #expect(jobs.argument("x-queue-type") == .string("quorum"))
        #expect(jobs.argument("x-delivery-limit") == .int(5))
        #expect(jobs.argument("x-dead-letter-exchange") == .string("mcp.recovery.dlx"))
        #expect(jobs.argument("x-dead-letter-routing-key") == .string("dead"))
        #expect(jobs.argument("x-dead-letter-strategy") == .string("at-least-once"))
        #expect(jobs.argument("x-overflow") == .string("reject-publish"))
    }

    @Test func eachRetryStepIsATTLQueueDeadLetteringBackToTheJobsExchange() throws {
        for (step, seconds) in RetryPolicy.defaultDelays.enumerated() {
            let queue = try #require(topology.queues.first { $0.name == topology.retryQueue(step: step) })
            #expect(queue.argument("x-message-ttl") == .int(seconds * 1000))
            #expect(queue.argument("x-dead-letter-exchange") == .string("mcp.recovery.jobs"))
            #expect(queue.argument("x-dead-letter-routing-key") == .string("job"))
            #expect(queue.argument("x-dead-letter-strategy") == .string("at-least-once"))
            let route = topology.retryRoute(step: step)
            #expect(topology.bindings.contains(BindingSpec(queue: queue.name, exchange: route.exchange, routingKey: route.routingKey)))
        }
    }

    @Test func everyPublishRouteReachesItsQueue() {
        let routes = [(topology.jobRoute, "mcp.recovery.jobs"), (topology.deadRoute, "mcp.recovery.dead"), (topology.resultRoute, "mcp.recovery.results")]
        for (route, queue) in routes {
            #expect(topology.bindings.contains(BindingSpec(queue: queue, exchange: route.exchange, routingKey: route.routingKey)))
        }
    }

    @Test func everyDeadLetterIsCopiedToABoundedWatchQueue() throws {
        let watch = try #require(topology.queues.first { $0.name == topology.deadWatchQueue })
        #expect(watch.durable && watch.argument("x-queue-type") == .string("quorum"))
        #expect(watch.argument("x-max-length") == .int(Topology.deadWatchLength))
        #expect(watch.argument("x-overflow") == .string("drop-head"))
        let dead = topology.deadRoute
        #expect(topology.bindings.contains(BindingSpec(queue: watch.name, exchange: dead.exchange, routingKey: dead.routingKey)))
        // The jobs queue dead-letters on the same route, so the broker's letters are copied too.
        let jobs = try #require(topology.queues.first { $0.name == topology.jobsQueue })
        #expect(jobs.argument("x-dead-letter-exchange") == .string(dead.exchange))
        #expect(jobs.argument("x-dead-letter-routing-key") == .string(dead.routingKey))
    }

    @Test func everyDeclaredQueueIsBound() {
        #expect(Set(topology.bindings.map(\.queue)) == Set(topology.queueNames))
    }

    @Test func controlQueueIsPerWorkerExclusiveAndRoutedByInstanceId() throws {
        let queue = try topology.controlQueue(instanceId: "host-1:4242:abc")
        #expect(queue.name == "mcp.recovery.control.host-1:4242:abc")
        #expect(!queue.durable && queue.exclusive && queue.autoDelete)
        #expect(try topology.controlBinding(instanceId: "host-1:4242:abc")
            == BindingSpec(queue: queue.name, exchange: "mcp.recovery.control", routingKey: "host-1:4242:abc"))
        #expect(topology.controlRoute(instanceId: "host-1:4242:abc") == Route(exchange: "mcp.recovery.control", routingKey: "host-1:4242:abc"))
    }

    @Test func customPrefixAndLadder() throws {
        let custom = try Topology(prefix: "team-a.recovery", retryDelays: [2, 4], deliveryLimit: 9)
        #expect(custom.queueNames == ["team-a.recovery.jobs", "team-a.recovery.retry.2s", "team-a.recovery.retry.4s",
                                      "team-a.recovery.dead", "team-a.recovery.results", "team-a.recovery.dead.watch"])
        #expect(custom.queues[0].argument("x-delivery-limit") == .int(9))
    }

    @Test(arguments: ["", "has space", "slash/name", String(repeating: "p", count: 201), "ünicode"])
    func invalidPrefixIsRejected(prefix: String) {
        #expect(throws: TopologyError.invalidPrefix(prefix)) { try Topology(prefix: prefix) }
    }

    @Test(arguments: [[Int](), [0, 5], [5, 5], [15, 5], Array(1...21)])
    func invalidRetryLadderIsRejected(delays: [Int]) {
        #expect(throws: TopologyError.invalidRetryDelays(delays)) { try Topology(retryDelays: delays) }
    }

    @Test func negativeDeliveryLimitIsRejected() {
        #expect(throws: TopologyError.invalidDeliveryLimit(-1)) { try Topology(deliveryLimit: -1) }
    }

    @Test func invalidInstanceIdIsRejected() {
        #expect(throws: TopologyError.invalidInstanceId("a b")) { try topology.controlQueue(instanceId: "a b") }
    }
}

@Suite struct RedisKeysTests {
    @Test func originalKeysKeepTheirExactNames() {
        #expect(RedisKeys.connectionState("3f1c") == "mcp:connection:3f1c")
        #expect(RedisKeys.connectionIndex == "mcp:connections:all")
        #expect(RedisKeys.lease("3f1c") == "redlock:mcp:lock:connection:3f1c")
    }

    @Test func ourKeysLiveUnderTheRecoveryPrefix() {
        let ours = [
            RedisKeys.fence("x"), RedisKeys.pending("x"), RedisKeys.parked, RedisKeys.lastAttempt,
            RedisKeys.schedulerLeader, RedisKeys.workers, RedisKeys.workerAlive("w"),
        ]
        #expect(ours.allSatisfy { $0.hasPrefix("mcp:recovery:") })
        #expect(Set(ours).count == ours.count)
        #expect(RedisKeys.fence("x") == "mcp:recovery:fence:x")
        #expect(RedisKeys.pending("x") == "mcp:recovery:pending:x")
    }

    @Test func scriptsHaveUniqueNamesAndUseOnlyTheirKeysAndArguments() {
        #expect(Set(LuaScripts.all.map(\.name)).count == LuaScripts.all.count)
        for (name, source) in LuaScripts.all {
            #expect(source.contains("KEYS[1]") || source.contains("ipairs(KEYS)"), "\(name) must address its keys through KEYS")
            #expect(!source.contains("mcp:"), "\(name) must not hard-code a key name")
        }
    }

    @Test func leaseScriptsCompareTheTokenBeforeActing() {
        for source in [LuaScripts.releaseLease, LuaScripts.writeStateIfLeaseHeld, LuaScripts.releaseSession] {
            #expect(source.contains("redis.call('GET', KEYS[1])"))
            #expect(source.contains("ARGV[1]"))
        }
        #expect(LuaScripts.acquireLease.contains("'NX', 'PX'"))
        #expect(LuaScripts.acquireLease.contains("INCR"))
        #expect(LuaScripts.writeStateIfLeaseHeld.contains("SADD"))
    }
}

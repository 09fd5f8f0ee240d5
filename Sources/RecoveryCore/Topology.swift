/// Why a `Topology` could not be built.
public enum TopologyError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidPrefix(String)
    case invalidInstanceId(String)
    case invalidRetryDelays([Int])
    case invalidDeliveryLimit(Int)

    public var description: String {
        switch self {
        case .invalidPrefix(let prefix):
            return "invalid queue prefix '\(StrictFields.excerpt(prefix))': use 1-200 letters, digits, '.', '-' or '_'"
        case .invalidInstanceId(let id):
            return "invalid worker instance id '\(StrictFields.excerpt(id))': use 1-200 letters, digits, '.', '-', '_' or ':'"
        case .invalidRetryDelays(let delays):
            return "invalid retry delays \(delays): need 1 to 20 increasing whole seconds, each at least 1"
        case .invalidDeliveryLimit(let limit):
            return "invalid delivery limit \(limit): must be 0 or more"
        }
    }
}

/// The RabbitMQ topology, as plain values the AMQP layer declares idempotently (names under `prefix`,
/// default `mcp.recovery`):
/// - `{p}.jobs` direct exchange → `{p}.jobs` quorum queue (key `job`), with `x-delivery-limit` and
///   dead-lettering (at-least-once, `x-overflow: reject-publish`) to `{p}.dlx` (key `dead`).
/// - `{p}.retry` direct exchange → one quorum queue per delay step, `{p}.retry.<n>s` (key `<n>s`), whose
///   `x-message-ttl` expiry dead-letters back to `{p}.jobs` (key `job`).
/// - `{p}.dlx` direct exchange → `{p}.dead` quorum queue (key `dead`): dead jobs, with why in their headers;
///   and → `{p}.dead.watch` (key `dead`, at most `deadWatchLength`, oldest dropped): a copy of each for the
///   scheduler, which settles the jobs the broker dead-lettered itself (their workers never did).
/// - `{p}.results` direct exchange → `{p}.results` quorum queue (key `result`).
/// - `{p}.control` direct exchange → `{p}.control.<instanceId>` (exclusive, auto-delete), key = instance id.
public struct Topology: Sendable, Equatable {
    public static let defaultPrefix = "mcp.recovery"
    public static let jobRoutingKey = "job"
    public static let deadRoutingKey = "dead"
    public static let resultRoutingKey = "result"

    /// Headers the pool sets on dead-lettered messages (the broker adds `x-death` to those it dead-letters).
    public enum DeadLetterHeader {
        /// A `DeadLetterReason` raw value.
        public static let reason = "x-recovery-dead-reason"
        /// The failure kind, `transient` or `permanent`.
        public static let errorKind = "x-recovery-error-kind"
        /// The last error's message (never a secret).
        public static let error = "x-recovery-error"
        /// The attempt that failed last.
        public static let attempt = "x-recovery-attempt"
        /// ISO-8601 time of dead-lettering.
        public static let diedAt = "x-recovery-died-at"
        /// The endpoint id (useful when the body is malformed).
        public static let endpointId = "x-recovery-server-id"
    }

    public let prefix: String
    public let retryDelays: [Int]
    public let deliveryLimit: Int

    public var jobsExchange: String { prefix + ".jobs" }
    public var jobsQueue: String { prefix + ".jobs" }
    public var retryExchange: String { prefix + ".retry" }
    public var deadLetterExchange: String { prefix + ".dlx" }
    public var deadQueue: String { prefix + ".dead" }
    public var deadWatchQueue: String { prefix + ".dead.watch" }
    /// Copies the watch queue keeps while no scheduler reads it.
    public static let deadWatchLength = 10_000
    public var resultsExchange: String { prefix + ".results" }
    public var resultsQueue: String { prefix + ".results" }
    public var controlExchange: String { prefix + ".control" }

    /// Builds the topology; `retryDelays` are the `RetryPolicy` steps in seconds (increasing, so each
    /// step has its own queue name).
    public init(prefix: String = Topology.defaultPrefix, retryDelays: [Int] = RetryPolicy.defaultDelays, deliveryLimit: Int = 5) throws(TopologyError) {
        guard Self.isValidName(prefix, extra: []) else { throw .invalidPrefix(prefix) }
        guard (1...20).contains(retryDelays.count), retryDelays[0] >= 1,
              zip(retryDelays, retryDelays.dropFirst()).allSatisfy({ $0 < $1 })
        else { throw .invalidRetryDelays(retryDelays) }
        guard deliveryLimit >= 0 else { throw .invalidDeliveryLimit(deliveryLimit) }
        self.prefix = prefix
        self.retryDelays = retryDelays
        self.deliveryLimit = deliveryLimit
    }

    static func isValidName(_ name: String, extra: Set<Character>) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200 else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" || $0 == "_" || extra.contains($0) }
    }

    /// The routing key and queue suffix of retry step `step`, e.g. `15s`.
    public func retryStepName(_ step: Int) -> String { "\(retryDelays[step])s" }

    /// The retry queue of each step, in step order.
    public var retryQueueNames: [String] { retryDelays.indices.map { retryExchange + "." + retryStepName($0) } }

    /// Where to publish a job retried through step `step`.
    public func retryRoute(step: Int) -> Route { Route(exchange: retryExchange, routingKey: retryStepName(step)) }

    /// Where new jobs (and operator retries) are published.
    public var jobRoute: Route { Route(exchange: jobsExchange, routingKey: Self.jobRoutingKey) }
    /// Where workers publish dead jobs.
    public var deadRoute: Route { Route(exchange: deadLetterExchange, routingKey: Self.deadRoutingKey) }
    /// Where workers publish results.
    public var resultRoute: Route { Route(exchange: resultsExchange, routingKey: Self.resultRoutingKey) }

    /// Exchanges to declare.
    public var exchanges: [ExchangeSpec] {
        [jobsExchange, retryExchange, deadLetterExchange, resultsExchange, controlExchange].map { ExchangeSpec(name: $0) }
    }

    /// Durable queues to declare (the control queues are per worker: `controlQueue(instanceId:)`).
    public var queues: [QueueSpec] {
        var queues = [
            QueueSpec(name: jobsQueue, arguments: [
                QueueArgument("x-queue-type", .string("quorum")),
                QueueArgument("x-delivery-limit", .int(deliveryLimit)),
                QueueArgument("x-dead-letter-exchange", .string(deadLetterExchange)),
                QueueArgument("x-dead-letter-routing-key", .string(Self.deadRoutingKey)),
                QueueArgument("x-dead-letter-strategy", .string("at-least-once")),
                QueueArgument("x-overflow", .string("reject-publish")),
            ]),
        ]
        for step in retryDelays.indices {
            queues.append(QueueSpec(name: retryQueueNames[step], arguments: [
                QueueArgument("x-queue-type", .string("quorum")),
                QueueArgument("x-message-ttl", .int(retryDelays[step] * 1000)),
                QueueArgument("x-dead-letter-exchange", .string(jobsExchange)),
                QueueArgument("x-dead-letter-routing-key", .string(Self.jobRoutingKey)),
                QueueArgument("x-dead-letter-strategy", .string("at-least-once")),
                QueueArgument("x-overflow", .string("reject-publish")),
            ]))
        }
        // No explicit `x-delivery-limit` on the dead queue, on purpose: deployments made by earlier versions
        // have none, and the broker refuses a redeclaration with a different argument (PRECONDITION_FAILED),
        // which would stop every process of such a deployment at start. On RabbitMQ 4.0-4.2 the quorum
        // default (20 returns, each `dead list` or `retry` returns the letters it leaves) then applies, so
        // operators set a `delivery-limit` policy on this queue; a policy needs no redeclaration.
        queues.append(QueueSpec(name: deadQueue, arguments: [QueueArgument("x-queue-type", .string("quorum"))]))
        queues.append(QueueSpec(name: resultsQueue, arguments: [QueueArgument("x-queue-type", .string("quorum"))]))
        queues.append(QueueSpec(name: deadWatchQueue, arguments: [
            QueueArgument("x-queue-type", .string("quorum")),
            QueueArgument("x-max-length", .int(Self.deadWatchLength)),
            QueueArgument("x-overflow", .string("drop-head")),
        ]))
        return queues
    }

    /// The name of retry step `step`'s queue.
    public func retryQueue(step: Int) -> String { retryExchange + "." + retryStepName(step) }

    /// Bindings of the durable queues.
    public var bindings: [BindingSpec] {
        var bindings = [BindingSpec(queue: jobsQueue, exchange: jobsExchange, routingKey: Self.jobRoutingKey)]
        for step in retryDelays.indices {
            bindings.append(BindingSpec(queue: retryQueue(step: step), exchange: retryExchange, routingKey: retryStepName(step)))
        }
        bindings.append(BindingSpec(queue: deadQueue, exchange: deadLetterExchange, routingKey: Self.deadRoutingKey))
        bindings.append(BindingSpec(queue: resultsQueue, exchange: resultsExchange, routingKey: Self.resultRoutingKey))
        bindings.append(BindingSpec(queue: deadWatchQueue, exchange: deadLetterExchange, routingKey: Self.deadRoutingKey))
        return bindings
    }

    /// The control queue of one worker: exclusive, auto-delete, gone with its connection.
    public func controlQueue(instanceId: String) throws(TopologyError) -> QueueSpec {
        guard Self.isValidName(instanceId, extra: [":"]) else { throw .invalidInstanceId(instanceId) }
        return QueueSpec(name: controlExchange + "." + instanceId, durable: false, exclusive: true, autoDelete: true)
    }

    /// The binding of one worker's control queue (routing key = instance id).
    public func controlBinding(instanceId: String) throws(TopologyError) -> BindingSpec {
        let queue = try controlQueue(instanceId: instanceId)
        return BindingSpec(queue: queue.name, exchange: controlExchange, routingKey: instanceId)
    }

    /// Where to publish a control message for worker `instanceId`.
    public func controlRoute(instanceId: String) -> Route { Route(exchange: controlExchange, routingKey: instanceId) }

    /// Every durable queue name, for `scheduler queues`.
    public var queueNames: [String] { queues.map(\.name) }
}

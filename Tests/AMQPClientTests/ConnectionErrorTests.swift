import ClientSupport
import AMQPClient
import Testing

@Suite struct ConnectionErrorTests {
    @Test func malformedURLIsOneClearErrorWithoutThePassword() async throws {
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPConnection.connect(url: "amqp://xiaozhi:hunter2@127.0.0.1:port/%2f")
        }
        guard case .invalidURL = error else {
            Issue.record("expected invalidURL, got \(String(describing: error))")
            return
        }
        #expect("\(error!)".contains("invalid port 'port'"))
        #expect(!"\(error!)".contains("hunter2"))
    }

    @Test func wrongPasswordIsAnAuthenticationErrorNamingTheUser() async throws {
        var url = try AMQPURL(parsing: Broker.url())
        url.password = "definitely-wrong-password"
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPConnection.connect(configuration: AMQPConfiguration(url: url))
        }
        guard case let .authenticationFailed(redacted, user, _) = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(user == url.user)
        #expect(redacted == url.redacted)
        #expect(!"\(error!)".contains("definitely-wrong-password"))
    }

    @Test func closedPortIsAConnectionErrorNamingTheAddress() async throws {
        var url = try AMQPURL(parsing: Broker.url())
        url.servers = [ServerAddress(host: "127.0.0.1", port: 1)]  // nothing listens on tcpmux
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPConnection.connect(configuration: AMQPConfiguration(url: url))
        }
        guard case let .connectionFailed(redacted, reason) = error else {
            Issue.record("expected connectionFailed, got \(String(describing: error))")
            return
        }
        #expect(redacted.contains("127.0.0.1:1/"))
        #expect(reason.contains("refused"))
        #expect(!"\(error!)".contains(try AMQPURL(parsing: Broker.url()).password))
    }

    @Test func unknownVirtualHostIsRefusedByName() async throws {
        var url = try AMQPURL(parsing: Broker.url())
        url.virtualHost = "no-such-vhost"
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPConnection.connect(configuration: AMQPConfiguration(url: url))
        }
        guard case let .virtualHostRefused(_, vhost, _) = error else {
            Issue.record("expected virtualHostRefused, got \(String(describing: error))")
            return
        }
        #expect(vhost == "no-such-vhost")
    }
}

@Suite struct HeartbeatAndTLSTests {
    @Test func idleConnectionKeepsItsUnackedDeliveryAcrossManyHeartbeatIntervals() async throws {
        var configuration = try Broker.configuration(name: "heartbeat-idle", heartbeatSeconds: 1)
        configuration.heartbeatSeconds = 1
        let connection = try await AMQPConnection.connect(configuration: configuration)
        let queue = Broker.uniqueName("heartbeat")
        try await connection.declare(QueueDeclaration.quorum(name: queue))
        let consumer = try await connection.consume(queue: queue)
        #expect(try await connection.publish(OutboundMessage(routingKey: queue, body: bytes("held"))) == .confirmed)
        let delivery = try await nextDelivery(consumer)
        // Idle for several heartbeat intervals: had heartbeats lapsed, the broker would have closed the
        // connection, requeued the message, and the ack below would be stale.
        try await Task.sleep(for: .seconds(5))
        #expect(try await connection.ack(delivery) == .sent)
        try await connection.cancel(consumer)
        #expect(try await connection.inspectQueue(queue).messageCount == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func amqpsToAPlainPortFailsWithAConnectionErrorNotAHang() async throws {
        var url = try AMQPURL(parsing: Broker.url())
        url.usesTLS = true
        let configuration = AMQPConfiguration(url: url, connectTimeout: .seconds(5))
        let error = await #expect(throws: AMQPError.self) {
            try await within(30, "a TLS connect to a plain port") {
                try await AMQPConnection.connect(configuration: configuration)
            }
        }
        guard case let .connectionFailed(redacted, _) = error else {
            Issue.record("expected connectionFailed, got \(String(describing: error))")
            return
        }
        #expect(redacted.hasPrefix("amqps://"))
        #expect(!"\(error!)".contains(url.password))
    }

    @Test func aDeadNodeInTheListIsSkippedForTheNextOne() async throws {
        var url = try AMQPURL(parsing: Broker.url())
        url.servers = [ServerAddress(host: "127.0.0.1", port: 1)] + url.servers
        let connection = try await AMQPConnection.connect(configuration: AMQPConfiguration(url: url))
        let queue = try await connection.declare(QueueDeclaration(name: "", durable: false, exclusive: true, autoDelete: true))
        #expect(!queue.name.isEmpty)
        await connection.close()
    }

    @Test func everyNodeDeadNamesTheLastOneTried() async throws {
        var url = try AMQPURL(parsing: Broker.url())
        url.servers = [ServerAddress(host: "127.0.0.1", port: 1), ServerAddress(host: "127.0.0.1", port: 2)]
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPConnection.connect(configuration: AMQPConfiguration(url: url))
        }
        guard case let .connectionFailed(_, reason) = error else {
            Issue.record("expected connectionFailed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("node 127.0.0.1:2"))
    }
}

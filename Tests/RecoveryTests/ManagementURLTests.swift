import Testing
@testable import Recovery

/// Where the RabbitMQ management API is called: over TLS whenever the AMQP URL is, unless an operator
/// names the API's address.
@Suite struct ManagementURLTests {
    @Test func anAMQPSURLGivesAnHTTPSManagementAPIOnTheTLSPort() throws {
        let api = try RabbitManagementAPI.resolve(amqpURL: "amqps://pool:amqp-secret@broker.internal:5671/%2fprod", environment: [:])
        #expect(api.baseURL == "https://broker.internal:15671")
        #expect(api.virtualHost == "/prod")
    }

    @Test func aPlainAMQPURLKeepsThePlainManagementPort() throws {
        let api = try RabbitManagementAPI.resolve(amqpURL: "amqp://pool:amqp-secret@broker.internal:5672/", environment: [:])
        #expect(api.baseURL == "http://broker.internal:15672")
    }

    @Test func anIPv6HostIsBracketed() throws {
        let api = try RabbitManagementAPI.resolve(amqpURL: "amqps://pool:pw@[fd00::5]:5671/", environment: [:])
        #expect(api.baseURL == "https://[fd00::5]:15671")
    }

    @Test func anExplicitManagementURLWinsWhateverTheAMQPScheme() throws {
        let api = try RabbitManagementAPI.resolve(
            amqpURL: "amqps://pool:pw@broker.internal:5671/", environment: ["RABBITMQ_MANAGEMENT_URL": "http://127.0.0.1:15672"])
        #expect(api.baseURL == "http://127.0.0.1:15672")
    }

    @Test func aClusterURLGivesOneManagementAPIPerNode() throws {
        let api = try RabbitManagementAPI.resolve(amqpURL: "amqp://pool:pw@mq1:5672,mq2:5673,mq1:5674/", environment: [:])
        #expect(api.baseURLs == ["http://mq1:15672", "http://mq2:15672"])
    }
}

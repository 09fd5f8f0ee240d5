import ClientSupport
import Testing
@testable import AMQPClient

@Suite struct AMQPURLTests {
    @Test func parsesUserPasswordHostPortAndEncodedDefaultVhost() throws {
        let url = try AMQPURL(parsing: "amqp://xiaozhi:s3cret@127.0.0.1:27672/%2f")
        #expect(url.usesTLS == false)
        #expect(url.user == "xiaozhi")
        #expect(url.password == "s3cret")
        #expect(url.servers == [ServerAddress(host: "127.0.0.1", port: 27672)])
        #expect(url.virtualHost == "/")
    }

    @Test func percentDecodesUserPasswordAndVhost() throws {
        let url = try AMQPURL(parsing: "amqp://us%40er:p%3Aa%2Fss%40@rabbit.internal/prod%2Fjobs")
        #expect(url.user == "us@er")
        #expect(url.password == "p:a/ss@")
        #expect(url.virtualHost == "prod/jobs")
        #expect(url.servers == [ServerAddress(host: "rabbit.internal", port: 5672)])
    }

    @Test func amqpsDefaultsToPort5671WithPeerVerification() throws {
        let url = try AMQPURL(parsing: "amqps://u:p@broker.example.com/vh")
        #expect(url.usesTLS)
        #expect(url.servers.map(\.port) == [5671])
        #expect(url.verifiesPeer)
        #expect(url.virtualHost == "vh")
    }

    @Test func schemeIsCaseInsensitive() throws {
        #expect(try AMQPURL(parsing: "AMQPS://u:p@h:1/v").usesTLS)
    }

    @Test func absentPathAndCredentialsUseDefaults() throws {
        let url = try AMQPURL(parsing: "amqp://localhost")
        #expect(url.virtualHost == "/")
        #expect(url.user == "guest")
        #expect(url.password == "guest")
        let bare = try AMQPURL(parsing: "amqp://")
        #expect(bare.servers == [ServerAddress(host: "localhost", port: 5672)])
    }

    @Test func readsQueryParameters() throws {
        let url = try AMQPURL(
            parsing: "amqps://u:p@h:5671/v?heartbeat=15&connection_timeout=2500&verify=verify_none&cacertfile=%2Fetc%2Fca.pem")
        #expect(url.heartbeatSeconds == 15)
        #expect(url.connectionTimeoutMilliseconds == 2500)
        #expect(url.verifiesPeer == false)
        #expect(url.caCertificateFile == "/etc/ca.pem")
        let configuration = AMQPConfiguration(url: url)
        #expect(configuration.heartbeatSeconds == 15)
        #expect(configuration.connectTimeout == .milliseconds(2500))
    }

    @Test func explicitHeartbeatOverridesURL() throws {
        let configuration = try AMQPConfiguration(urlString: "amqp://u:p@h/v?heartbeat=15", heartbeatSeconds: 5)
        #expect(configuration.heartbeatSeconds == 5)
        #expect(try AMQPConfiguration(urlString: "amqp://u:p@h/v").heartbeatSeconds == 30)
    }

    @Test func parsesBracketedIPv6Host() throws {
        let url = try AMQPURL(parsing: "amqp://u:p@[::1]:5673/v")
        #expect(url.servers == [ServerAddress(host: "::1", port: 5673)])
        #expect(url.redacted == "amqp://u:***@[::1]:5673/v")
    }

    @Test func parsesTheNodesOfACluster() throws {
        let url = try AMQPURL(parsing: "amqp://u:s3cret@rabbit-1:5672,rabbit-2,[::1]:5673/v")
        #expect(url.servers.map(\.description) == ["rabbit-1:5672", "rabbit-2:5672", "[::1]:5673"])
        #expect(url.redacted == "amqp://u:***@rabbit-1:5672,rabbit-2:5672,[::1]:5673/v")
    }

    @Test func redactedFormHidesPasswordAndReencodesVhost() throws {
        let url = try AMQPURL(parsing: "amqp://xiaozhi:s3cret@127.0.0.1:27672/%2f")
        #expect(url.redacted == "amqp://xiaozhi:***@127.0.0.1:27672/%2f")
        #expect(!"\(url)".contains("s3cret"))
    }

    @Test(arguments: [
        ("http://u:s3cret@h/v", "unsupported scheme 'http'"),
        ("u:s3cret@h:5672", "expected amqp://"),
        ("amqp://u:s3cret@h:notaport/v", "invalid port 'notaport'"),
        ("amqp://u:s3cret@h:70000/v", "invalid port '70000'"),
        ("amqp://u:s3cret@h:5672/a/b", "percent-encode '/'"),
        ("amqp://u:s3cret%zz@h/v", "bad percent-encoding in password"),
        ("amqp://u:s3cret@h/v?heartbeat=soon", "heartbeat must be"),
        ("amqp://u:s3cret@h/v?frobnicate=1", "unknown query parameter 'frobnicate'"),
        ("amqp://u:s3cret@[::1/v", "unterminated IPv6"),
        ("amqp://u:s3cret@h1,,h2/v", "missing host"),
        ("amqp://u:s3cret@h1,h2:0/v", "invalid port '0'"),
    ])
    func malformedURLGivesClearErrorWithoutPassword(text: String, expected: String) {
        #expect {
            _ = try AMQPURL(parsing: text)
        } throws: { error in
            guard let error = error as? AMQPError, case .invalidURL = error else { return false }
            let message = "\(error)"
            return message.contains(expected) && !message.contains("s3cret")
        }
    }

    @Test func redactingWorksOnMalformedText() {
        #expect(Redaction.urlPassword("amqp://u:s3cret@h:bad/v") == "amqp://u:***@h:bad/v")
        #expect(Redaction.urlPassword("amqp://u:pa@ss@h/v") == "amqp://u:***@h/v")
        #expect(Redaction.urlPassword("amqp://h/v") == "amqp://h/v")
    }
}

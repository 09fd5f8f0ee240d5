import RedisClient
import Testing

@Suite struct RedisConfigurationTests {
    @Test func parsesPasswordHostPortAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:28379/2")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 28379)
        #expect(configuration.username == nil)
        #expect(configuration.password == "s3cret")
        #expect(configuration.database == 2)
    }

    @Test func parsesUserAndPercentEncodedPassword() throws {
        let configuration = try RedisConfiguration(url: "redis://worker:p%40ss%3Aword@cache.internal:6380")
        #expect(configuration.username == "worker")
        #expect(configuration.password == "p@ss:word")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 0)
    }

    @Test func defaultsPortAndDatabaseWithoutCredentials() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration == RedisConfiguration(host: "localhost", port: 6379))
    }

    @Test func parsesBracketedIPv6Host() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:7000/1")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7000)
        #expect(configuration.serverDescription == "[::1]:7000/1")
    }

    @Test(arguments: [
        ("http://:pw@host:6379", "unsupported scheme"),
        ("redis://:pw@host:99999", "port '99999'"),
        ("redis://:pw@host:abc", "port 'abc'"),
        ("redis://:pw@host:6379/x", "database 'x'"),
        ("redis://:pw@:6379", "missing host"),
        ("redis://:pw@host?timeout=1", "query parameters"),
        ("redis://:pw%zz@host", "percent-encoding"),
        ("rediss://:pw@host", "TLS"),
        ("localhost:6379", "expected redis://"),
    ])
    func rejectsMalformedURLNamingItWithoutThePassword(url: String, reason: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            let text = String(describing: error)
            return text.contains(reason) && !text.contains("pw") && text.contains("invalid Redis URL")
        }
    }

    @Test func malformedURLErrorShowsTheRedactedURL() {
        #expect(throws: RedisError.invalidURL(url: "redis://user:***@host:0", reason: "port '0' is not a number from 1 to 65535")) {
            try RedisConfiguration(url: "redis://user:topsecret@host:0")
        }
    }

    @Test func serverDescriptionHasNoCredentials() throws {
        let configuration = try RedisConfiguration(url: "redis://admin:hunter2@10.0.0.5:6379/3")
        #expect(configuration.serverDescription == "10.0.0.5:6379/3")
    }
}

import ClientSupport
import PostgresClient
import Testing

@Suite struct PostgresConfigurationTests {
    @Test func parsesUserPasswordHostPortDatabaseAndSSLMode() throws {
        let configuration = try PostgresConfiguration(url: "postgres://pool:s3cret@db.internal:6432/xiaozhi?sslmode=require")
        #expect(configuration.user == "pool")
        #expect(configuration.password == "s3cret")
        #expect(configuration.servers == [ServerAddress(host: "db.internal", port: 6432)])
        #expect(configuration.database == "xiaozhi")
        #expect(configuration.sslMode == "require")
    }

    @Test func acceptsThePostgresqlSchemeAndDefaults() throws {
        let configuration = try PostgresConfiguration(url: "postgresql://pool@localhost")
        #expect(configuration.servers == [ServerAddress(host: "localhost", port: 5432)])
        #expect(configuration.password == nil)
        #expect(configuration.database == "pool")
        #expect(configuration.sslMode == nil)
    }

    @Test func decodesPercentEncodedCredentialsAndDatabase() throws {
        let configuration = try PostgresConfiguration(url: "postgres://us%40er:p%40ss%2Fw%3Ard@[::1]:5433/my%20db")
        #expect(configuration.user == "us@er")
        #expect(configuration.password == "p@ss/w:rd")
        #expect(configuration.servers == [ServerAddress(host: "::1", port: 5433)])
        #expect(configuration.database == "my db")
    }

    @Test func passesAwkwardPasswordsAsOneValueNeverAsConninfoText() throws {
        let password = "a b' c=d\\ host=evil"
        let configuration = PostgresConfiguration(host: "127.0.0.1", user: "pool", password: password, database: "xiaozhi")
        let parameters = configuration.connectionParameters
        #expect(parameters.filter { $0.keyword == "password" }.map(\.value) == [password])
        #expect(parameters.filter { $0.keyword == "host" }.map(\.value) == ["127.0.0.1"])
    }

    @Test func severalServersBecomeLibpqHostAndPortListsInOrder() throws {
        let configuration = try PostgresConfiguration(
            url: "postgres://pool:pw@primary:5432,[::1]:5433,standby/db?target_session_attrs=read-write")
        #expect(configuration.servers.map(\.description) == ["primary:5432", "[::1]:5433", "standby:5432"])
        let parameters = Dictionary(uniqueKeysWithValues: configuration.connectionParameters.map { ($0.keyword, $0.value) })
        #expect(parameters["host"] == "primary,::1,standby")
        #expect(parameters["port"] == "5432,5433,5432")
        #expect(parameters["target_session_attrs"] == "read-write")
        #expect(configuration.serverDescription == "primary:5432,[::1]:5433,standby:5432/db")
    }

    @Test func sessionOptionsFixDateStyleTimeZoneAndStatementTimeout() throws {
        let configuration = try PostgresConfiguration(url: "postgres://pool:pw@h/db?statement_timeout=1500&application_name=sched")
        let parameters = Dictionary(uniqueKeysWithValues: configuration.connectionParameters.map { ($0.keyword, $0.value) })
        #expect(parameters["options"] == "-c DateStyle=ISO -c TimeZone=UTC -c client_encoding=UTF8 -c statement_timeout=1500")
        #expect(parameters["application_name"] == "sched")
        #expect(parameters["connect_timeout"] == "5")
        #expect(parameters["dbname"] == "db")
    }

    @Test(arguments: [
        ("mysql://pool:pw@h/db", "unsupported scheme"),
        ("postgres://pool:pw@h:0/db", "port '0'"),
        ("postgres://pool:pw@h:x/db", "port 'x'"),
        ("postgres://pool:pw@/db", "missing host"),
        ("postgres://h/db", "missing user"),
        ("postgres://pool:pw@h/db?sslmode=sometimes", "sslmode 'sometimes'"),
        ("postgres://pool:pw@h/db?host=evil", "unsupported query parameter 'host'"),
        ("postgres://pool:pw%zz@h/db", "percent-encoding"),
        ("postgres://pool:pw@h1,,h2/db", "missing host"),
        ("postgres://pool:pw@h1:5432,h2:99999/db", "'h2:99999'"),
        ("pool:pw@h/db", "expected postgres://"),
    ])
    func rejectsMalformedURLNamingItWithoutThePassword(url: String, reason: String) {
        #expect {
            try PostgresConfiguration(url: url)
        } throws: { error in
            let text = String(describing: error)
            return text.contains(reason) && !text.contains("pw") && text.contains("invalid Postgres URL")
                && (error as? PostgresError)?.kind == .invalidURL
        }
    }

    @Test func invalidURLErrorShowsTheRedactedURL() {
        #expect {
            try PostgresConfiguration(url: "postgres://pool:hunter2@h:99999/db")
        } throws: { error in
            (error as? PostgresError)?.server == "postgres://pool:***@h:99999/db"
        }
    }
}

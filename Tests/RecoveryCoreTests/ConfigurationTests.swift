import Foundation
import Testing
@testable import RecoveryCore

@Suite struct ConfigurationTests {
    static let defaultsFile: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/defaults.json")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? "missing config/defaults.json"
    }()

    func load(file: String? = nil, env: [String: String] = [:], set: [String] = []) throws(ConfigurationError) -> PoolConfiguration {
        try ConfigurationLoader.load(fileContents: file, environment: env, overrides: set)
    }

    func error(file: String? = nil, env: [String: String] = [:], set: [String] = []) -> ConfigurationError? {
        do {
            _ = try load(file: file, env: env, set: set)
            return nil
        } catch {
            return error
        }
    }

    @Test func builtInDefaultsKeepTheOriginalsValues() throws {
        let config = try load()
        #expect(config.checkIntervalSeconds == 30)
        #expect(config.heartbeatTimeoutSeconds == 90)
        #expect(config.reconnectCooldownSeconds == 60)
        #expect(config.tablePrefix == "verdure_")
        #expect(config.queuePrefix == "mcp.recovery")
        #expect(config.retryDelaysSeconds == [5, 15, 45, 135, 300])
        #expect(config.instanceId == nil)
        #expect(config.tlsCaFile == nil)
        #expect(config.databaseURL == nil)
        #expect(config == PoolConfiguration.defaults())
    }

    @Test func defaultsFileHoldsEveryKeyWithTheBuiltInDefault() throws {
        let layered = try ConfigurationLoader.layer(fileContents: Self.defaultsFile, environment: [:], overrides: [])
        for key in ConfigurationKeys.all where !key.isSecretBearing {
            let entry = try #require(layered[key.name])
            #expect(entry.source == .file, "\(key.name) is missing from config/defaults.json")
            #expect(entry.value == key.defaultValue, "\(key.name): file has \(entry.value), built-in \(key.defaultValue)")
        }
        #expect(try load(file: Self.defaultsFile).checkIntervalSeconds == 30)
    }

    @Test func fileOverridesBuiltInDefaults() throws {
        let config = try load(file: #"{"ConnectionMonitor": {"CheckIntervalSeconds": 10}, "Retry": {"DelaysSeconds": [1, 2]}}"#)
        #expect(config.checkIntervalSeconds == 10)
        #expect(config.retryDelaysSeconds == [1, 2])
        #expect(config.resolved["ConnectionMonitor:CheckIntervalSeconds"]?.source == .file)
    }

    @Test func booleanInTheFileIsShownAsABoolean() {
        #expect(error(file: #"{"Log": {"Format": true}}"#)
            == .invalidValue(key: "Log:Format", value: "true", source: .file, expected: "one of text, json"))
    }

    @Test func fileAcceptsFlatKeys() throws {
        #expect(try load(file: #"{"Worker:Prefetch": 3}"#).prefetch == 3)
    }

    @Test func environmentOverridesTheFile() throws {
        let config = try load(file: #"{"ConnectionMonitor": {"CheckIntervalSeconds": 10}}"#,
                              env: ["ConnectionMonitor__CheckIntervalSeconds": "20"])
        #expect(config.checkIntervalSeconds == 20)
        #expect(config.resolved["ConnectionMonitor:CheckIntervalSeconds"]?.source == .environment(variable: "ConnectionMonitor__CheckIntervalSeconds"))
    }

    @Test func commandLineOverridesTheEnvironment() throws {
        let config = try load(file: #"{"ConnectionMonitor": {"CheckIntervalSeconds": 10}}"#,
                              env: ["ConnectionMonitor__CheckIntervalSeconds": "20"],
                              set: ["ConnectionMonitor:CheckIntervalSeconds=40"])
        #expect(config.checkIntervalSeconds == 40)
        #expect(config.resolved["ConnectionMonitor:CheckIntervalSeconds"]?.source == .commandLine)
    }

    @Test func defaultsWithOverridesApplyThem() throws {
        let config = try PoolConfiguration.defaults(overriding: ["Worker:Prefetch=2"])
        #expect(config.prefetch == 2)
        #expect(config.checkIntervalSeconds == 30)
    }

    @Test func laterCommandLineOptionWins() throws {
        #expect(try load(set: ["Worker:Prefetch=2", "Worker__Prefetch=7"]).prefetch == 7)
    }

    @Test func environmentAcceptsTheColonFormAndAnyCase() throws {
        #expect(try load(env: ["Worker:MaxSessions": "12"]).maxSessions == 12)
        #expect(try load(env: ["WORKER__MAXSESSIONS": "13"]).maxSessions == 13)
    }

    @Test func unrelatedEnvironmentVariablesAreIgnored() throws {
        let config = try load(env: ["PATH": "/usr/bin", "Logging__LogLevel__Default": "Debug", "Worker__Unknown": "x"])
        #expect(config == PoolConfiguration.defaults())
    }

    @Test func connectionURLsComeFromTheEnvironment() throws {
        let config = try load(env: [
            "DATABASE_URL": "postgres://pool:pw@db:5432/verdure?sslmode=disable",
            "REDIS_URL": "redis://:pw@cache:6380/2",
            "AMQP_URL": "amqps://guest:guest@mq:5671/%2f",
        ])
        #expect(config.databaseURL?.servers.map(\.description) == ["db:5432"])
        #expect(config.redisURL?.scheme == "redis")
        #expect(config.redisURL?.raw == "redis://:pw@cache:6380/2")
        #expect(config.amqpURL?.scheme == "amqps")
        #expect(try config.require(\.redisURL).servers.map(\.description) == ["cache:6380"])
    }

    @Test func sentinelsAreAListOfServers() throws {
        let config = try load(set: ["Redis:Sentinels=127.0.0.1:26379, [::1]:26380", "Redis:MasterName=pool-master"])
        #expect(config.redisSentinels.map(\.description) == ["127.0.0.1:26379", "[::1]:26380"])
        #expect(config.redisMasterName == "pool-master")
        #expect(try load().redisSentinels.isEmpty)
    }

    @Test func connectionURLsMayListSeveralServers() throws {
        let config = try load(env: [
            "DATABASE_URL": "postgres://pool:pw@db1,db2:5433/verdure?target_session_attrs=read-write",
            "AMQP_URL": "amqp://pool:pw@mq1:5672,mq2,[::1]:5673/%2f",
        ])
        #expect(config.databaseURL?.servers.map(\.description) == ["db1:5432", "db2:5433"])
        #expect(config.amqpURL?.servers.map(\.description) == ["mq1:5672", "mq2:5672", "[::1]:5673"])
    }

    @Test(arguments: ["amqp://pool:pw@mq1,,mq2/", "amqp://pool:pw@mq1:0/", "amqp://pool:pw@/", "ftp://mq/"])
    func aMalformedServerListNamesTheKey(url: String) {
        guard case .invalidValue(let key, let shown, _, _) = error(env: ["AMQP_URL": url]) else {
            Issue.record("no invalid-value error for \(url)")
            return
        }
        #expect(key == "AMQP_URL")
        #expect(!shown.contains("pw"))
    }

    @Test func missingConnectionURLIsNamed() throws {
        let config = try load()
        #expect(throws: ConfigurationError.missingConnection(key: "REDIS_URL")) { try config.require(\.redisURL) }
        #expect(throws: ConfigurationError.missingConnection(key: "DATABASE_URL")) { try config.require(\.databaseURL) }
        #expect(throws: ConfigurationError.missingConnection(key: "AMQP_URL")) { try config.require(\.amqpURL) }
    }

    @Test func unknownKeyInTheFileIsAnError() {
        #expect(error(file: #"{"ConnectionMonitor": {"CheckIntervalSecs": 5}}"#)
            == .unknownKey(key: "ConnectionMonitor:CheckIntervalSecs", source: .file))
    }

    @Test func unknownKeyOnTheCommandLineIsAnError() {
        #expect(error(set: ["Worker:Prefetchh=5"]) == .unknownKey(key: "Worker:Prefetchh", source: .commandLine))
    }

    @Test func malformedOverrideIsAnError() {
        #expect(error(set: ["Worker:Prefetch"]) == .malformedOverride("Worker:Prefetch"))
        #expect(error(set: ["=5"]) == .malformedOverride("=..."))
    }

    @Test func malformedFileIsAnError() {
        #expect(error(file: "{not json") == .malformedFile(detail: "not valid JSON"))
        #expect(error(file: "[1, 2]") == .malformedFile(detail: "the top level must be an object"))
        #expect(error(file: #"{"Retry": {"DelaysSeconds": [[1]]}}"#) == .malformedFile(detail: "Retry:DelaysSeconds must be an array of numbers or strings"))
    }

    static let invalidValues: [(String, String)] = [
        ("ConnectionMonitor:CheckIntervalSeconds", "abc"),
        ("ConnectionMonitor:CheckIntervalSeconds", "0"),
        ("ConnectionMonitor:HeartbeatTimeoutSeconds", "1"),
        ("ConnectionMonitor:ReconnectCooldownSeconds", "-1"),
        ("Database:TablePrefix", "1abc"),
        ("Database:TablePrefix", "x; DROP TABLE y"),
        ("Database:TablePrefix", String(repeating: "p", count: 43)),
        ("Recovery:LeaseTtlSeconds", "2"),
        ("Recovery:HeartbeatIntervalSeconds", "0"),
        ("Recovery:ParkSeconds", "0"),
        ("Recovery:PendingTtlSeconds", "5"),
        ("Recovery:PendingTtlSeconds", "604801"),
        ("Recovery:ShutdownGraceSeconds", "601"),
        ("Scheduler:LeaderLeaseSeconds", "1.5"),
        ("Scheduler:FullReadEveryCycles", "0"),
        ("Worker:InstanceId", "has space"),
        ("Worker:MaxSessions", "0"),
        ("Worker:Prefetch", "65536"),
        ("Worker:ConnectTimeoutSeconds", ""),
        ("Worker:StableAfterSeconds", "0"),
        ("Worker:PingIntervalSeconds", "0"),
        ("Worker:IdleTimeoutSeconds", "1"),
        ("Retry:MaxAttempts", "0"),
        ("Retry:DelaysSeconds", "5,x"),
        ("Retry:DelaysSeconds", "15,5"),
        ("Retry:DelaysSeconds", "5,5"),
        ("Retry:DelaysSeconds", ""),
        ("Retry:DelaysSeconds", "0"),
        ("Retry:DelaysSeconds", (1...21).map(String.init).joined(separator: ",")),
        ("Queue:Prefix", "bad prefix"),
        ("Queue:Prefix", ""),
        ("Queue:DeliveryLimit", "-1"),
        ("Queue:ConfirmTimeoutSeconds", "0"),
        ("Metrics:Port", "70000"),
        ("Metrics:Host", ""),
        ("Metrics:Host", "host name"),
        ("Log:Format", "xml"),
        ("Log:Level", "loud"),
        ("Tls:CaFile", "bad\u{0}path"),
        ("Mcp:CallTimeoutSeconds", "0"),
        ("Mcp:MaxMessageBytes", "100"),
        ("Mcp:MaxConcurrentCalls", "0"),
        ("Mcp:MaxResponseBytes", "1k"),
        ("Mcp:MaxSseLineBytes", "0"),
        ("Mcp:MaxSseEventBytes", "-1"),
        ("Mcp:UpstreamIdleTimeoutSeconds", "0"),
        ("Mcp:MaxUpstreamConnections", "0"),
        ("Redis:Sentinels", "s1"),
        ("Redis:Sentinels", "s1:26379,,s2:26379"),
        ("Redis:Sentinels", "s1:26379;s2:26379"),
        ("Redis:MasterName", ""),
        ("Redis:SentinelPassword", "has a space"),
        ("Redis:AcquireReplicas", "17"),
        ("Console:Port", "70000"),
        ("Console:Host", "bad host"),
        ("Console:AdminToken", "too-short"),
        ("Console:ViewerToken", "has a space 0123456789abcdef"),
        ("DATABASE_URL", "mysql://u:p@db/x"),
        ("REDIS_URL", "redis://"),
        ("REDIS_URL", "cache:6379"),
        ("AMQP_URL", "amqp://guest:guest@mq:99999/"),
    ]

    @Test(arguments: invalidValues)
    func invalidValueIsNamedWithItsSource(key: String, value: String) throws {
        let failure = try #require(error(set: ["\(key)=\(value)"]))
        #expect(failure.key == key)
        guard case .invalidValue(_, _, let source, let expected) = failure else {
            Issue.record("expected invalidValue, got \(failure)")
            return
        }
        #expect(source == .commandLine)
        #expect(!expected.isEmpty)
        #expect(failure.description.contains(key))
    }

    @Test func everyKeyHasAnInvalidValueCase() {
        let covered = Set(Self.invalidValues.map(\.0))
        #expect(covered == Set(ConfigurationKeys.all.map(\.name)))
    }

    @Test func invalidEnvironmentValueNamesTheVariable() {
        let failure = error(env: ["ConnectionMonitor__CheckIntervalSeconds": "soon"])
        #expect(failure == .invalidValue(key: "ConnectionMonitor:CheckIntervalSeconds", value: "soon",
                                         source: .environment(variable: "ConnectionMonitor__CheckIntervalSeconds"),
                                         expected: "an integer from 1 to 86400"))
        #expect(failure?.description == "invalid configuration ConnectionMonitor:CheckIntervalSeconds = 'soon' (from environment variable ConnectionMonitor__CheckIntervalSeconds): expected an integer from 1 to 86400")
    }

    @Test func heartbeatIntervalMustBeAtMostHalfTheTimeout() {
        let failure = error(set: ["ConnectionMonitor:HeartbeatTimeoutSeconds=30", "Recovery:HeartbeatIntervalSeconds=16"])
        #expect(failure?.key == "Recovery:HeartbeatIntervalSeconds")
        #expect(failure?.description.contains("ConnectionMonitor:HeartbeatTimeoutSeconds") == true)
        #expect(error(set: ["ConnectionMonitor:HeartbeatTimeoutSeconds=30", "Recovery:HeartbeatIntervalSeconds=15"]) == nil)
    }

    @Test func pendingMarkerMustOutliveTheLongestRetryDelayAndAWholeAttempt() {
        // An attempt: the 15 s connect timeout, then as long again holding the lease of an abandoned handshake.
        let failure = error(set: ["Retry:DelaysSeconds=5,600", "Recovery:PendingTtlSeconds=630"])
        #expect(failure?.key == "Recovery:PendingTtlSeconds")
        #expect(error(set: ["Retry:DelaysSeconds=5,600", "Recovery:PendingTtlSeconds=631"]) == nil)
    }

    @Test func idleTimeoutMustExceedThePingInterval() {
        #expect(error(set: ["Worker:PingIntervalSeconds=30", "Worker:IdleTimeoutSeconds=30"])?.key == "Worker:IdleTimeoutSeconds")
    }

    @Test func theConsoleNeedsATokenAndTheTwoTokensDiffer() {
        let missing = error(set: ["Console:Port=9470"])
        #expect(missing?.key == "Console:AdminToken")
        #expect(missing?.description.contains("Console:Port") == true)
        #expect(error(set: ["Console:Port=9470", "Console:ViewerToken=viewer-token-0123456789"]) == nil)
        let same = error(set: ["Console:AdminToken=same-token-0123456789", "Console:ViewerToken=same-token-0123456789"])
        #expect(same?.key == "Console:ViewerToken")
        #expect(same?.description.contains("same-token") == false)
    }

    @Test func theSentinelPasswordIsReadAndNeverShown() throws {
        let password = "s3ntinel"
        let config = try load(env: ["Redis__SentinelPassword": password], set: ["Redis:Sentinels=127.0.0.1:26379"])
        #expect(config.redisSentinelPassword == password)
        #expect(try load().redisSentinelPassword == nil)
        let text = ConfigurationPrinter.text(config) + ConfigurationPrinter.json(config)
        #expect(!text.contains(password))
        #expect(text.contains("Redis:SentinelPassword") && text.contains("(set)"))
        let invalid = try #require(error(env: ["Redis__SentinelPassword": "bad pass"]))
        #expect(invalid.key == "Redis:SentinelPassword")
        #expect(!invalid.description.contains("bad pass"))
    }

    @Test func consoleTokensAreNeverShown() throws {
        let token = "admin-secret-0123456789abcdef"
        let config = try load(env: ["Console__AdminToken": token], set: ["Console:Port=9470"])
        #expect(config.consoleAdminToken == token)
        #expect(config.consoleViewerToken == nil)
        let text = ConfigurationPrinter.text(config) + ConfigurationPrinter.json(config)
        #expect(!text.contains(token))
        #expect(text.contains("Console:AdminToken") && text.contains("(set)"))
        let invalid = try #require(error(env: ["Console__AdminToken": "short-secret"]))
        #expect(invalid.key == "Console:AdminToken")
        #expect(!invalid.description.contains("short-secret"))
    }

    @Test func invalidURLErrorMasksThePassword() throws {
        let failure = try #require(error(env: ["AMQP_URL": "amqp://guest:hunter2@mq:99999/"]))
        #expect(failure.key == "AMQP_URL")
        #expect(!failure.description.contains("hunter2"))
        let noScheme = try #require(error(env: ["REDIS_URL": "hunter2@cache"]))
        #expect(!noScheme.description.contains("hunter2"))
    }

    @Test func valuesAreTrimmedAndChoicesCaseInsensitive() throws {
        let config = try load(set: ["Worker:Prefetch= 4 ", "Log:Format=JSON", "Retry:DelaysSeconds=1, 2 ,3"])
        #expect(config.prefetch == 4)
        #expect(config.logFormat == .json)
        #expect(config.retryDelaysSeconds == [1, 2, 3])
    }

    @Test func printedConfigurationMasksPasswordsAndShowsSources() throws {
        let config = try load(env: ["REDIS_URL": "redis://:s3cret@cache:6379/0", "DATABASE_URL": "postgres://pool:pgpass@db/x"],
                              set: ["Worker:Prefetch=3"])
        let text = ConfigurationPrinter.text(config)
        #expect(!text.contains("s3cret"))
        #expect(!text.contains("pgpass"))
        #expect(text.contains("redis://:***@cache:6379/0"))
        #expect(text.contains("postgres://pool:***@db/x"))
        #expect(text.contains("# environment variable REDIS_URL"))
        #expect(text.split(separator: "\n").count == ConfigurationKeys.all.count)
        let prefetchLine = try #require(text.split(separator: "\n").first { $0.hasPrefix("Worker:Prefetch ") })
        #expect(prefetchLine.hasSuffix("= 3  # command line"))
        let json = ConfigurationPrinter.json(config)
        #expect(!json.contains("s3cret"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [String: String]])
        #expect(object["AMQP_URL"]?["value"] == "(unset)")
        #expect(object["Worker:Prefetch"]?["source"] == "command line")
        #expect(config.redisURL?.description == "redis://:***@cache:6379/0")
    }

    @Test func derivedPoliciesFollowTheKeys() throws {
        let config = try load(set: [
            "ConnectionMonitor:HeartbeatTimeoutSeconds=120", "ConnectionMonitor:ReconnectCooldownSeconds=30",
            "Recovery:ParkSeconds=600", "Retry:MaxAttempts=3", "Retry:DelaysSeconds=2,4", "Queue:Prefix=x.y",
            "Queue:DeliveryLimit=2",
        ])
        #expect(config.reconcilePolicy == ReconcilePolicy(heartbeatTimeout: 120, reconnectCooldown: 30, parkPeriod: 600))
        #expect(config.retryPolicy == RetryPolicy(delays: [2, 4], maxAttempts: 3))
        #expect(config.topology.jobsQueue == "x.y.jobs")
        #expect(config.topology.queues[0].argument("x-delivery-limit") == .int(2))
    }

    @Test func environmentFormOfEveryKeyIsTheDoubleUnderscoreForm() {
        #expect(ConfigurationKeys.checkInterval.environmentName == "ConnectionMonitor__CheckIntervalSeconds")
        for key in ConfigurationKeys.all {
            #expect(ConfigurationKeys.named(key.environmentName) == key)
        }
    }

    @Test func markdownReferenceListsEveryKey() {
        let table = ConfigurationPrinter.markdownReference()
        for key in ConfigurationKeys.all {
            #expect(table.contains("`\(key.name)`"))
        }
    }
}

@Suite struct ConfigurationDocumentationTests {
    @Test func configReadmeHoldsTheCurrentKeyReference() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/README.md")
        let readme = try String(contentsOf: url, encoding: .utf8)
        #expect(readme.contains(ConfigurationPrinter.markdownReference()))
    }
}

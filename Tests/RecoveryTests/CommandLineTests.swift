import Foundation
import Testing

/// `scheduler` and `worker` as an operator meets them on the command line: bad input gives a non-zero
/// exit and one line naming the key or file, never a password; `--print-config` masks URL passwords;
/// `--help` works. No server is reached: every case fails (or prints) before connecting.
@Suite(.timeLimit(.minutes(2)))
struct CommandLineTests {
    /// Well-formed URLs whose passwords no output may contain; the hosts answer nothing.
    static let secretURLs: [String: String] = [
        "DATABASE_URL": "postgres://pool:pg-Secret-4711@127.0.0.1:9/xiaozhi?sslmode=disable",
        "REDIS_URL": "redis://:redis-Secret-4711@127.0.0.1:9/0",
        "AMQP_URL": "amqp://pool:amqp-Secret-4711@127.0.0.1:9/%2f",
    ]
    static let secrets = ["pg-Secret-4711", "redis-Secret-4711", "amqp-Secret-4711", "url-Secret-4711"]

    struct Outcome {
        var status: Int32
        var output: String
        /// The non-empty lines of stdout and stderr together.
        var lines: [String] { output.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty } }
    }

    /// Runs `product arguments` with the secret URLs plus `environment` and waits for it.
    func run(_ product: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        let merged = Self.secretURLs.merging(environment) { _, new in new }
        let process = try PoolProcess(product: product, arguments: arguments, environment: merged, name: "cli-\(product)")
        guard let status = await process.waitForExit(timeout: .seconds(30)) else {
            process.send(SIGKILL)
            throw HarnessError("\(product) \(arguments.joined(separator: " ")) did not exit within 30 s:\n\(process.log)")
        }
        return Outcome(status: status, output: process.log)
    }

    /// A failed start: non-zero, exactly one line, containing every `names`, no secret.
    func expectOneLineError(_ outcome: Outcome, naming names: [String], _ comment: Comment) {
        #expect(outcome.status != 0, "\(comment): exit status 0\n\(outcome.output)")
        #expect(outcome.lines.count == 1, "\(comment): \(outcome.lines.count) lines instead of one:\n\(outcome.output)")
        for name in names {
            #expect(outcome.output.contains(name), "\(comment): the error does not name '\(name)':\n\(outcome.output)")
        }
        for secret in Self.secrets {
            #expect(!outcome.output.contains(secret), "\(comment): a password is printed:\n\(outcome.output)")
        }
    }

    @Test(arguments: ["scheduler", "worker"])
    func aBadConfigValueNamesTheKey(product: String) async throws {
        let outcome = try await run(product, ["run"], environment: ["ConnectionMonitor__CheckIntervalSeconds": "soon"])
        expectOneLineError(outcome, naming: ["CheckIntervalSeconds", "soon"], "\(product) with CheckIntervalSeconds=soon")
    }

    @Test(arguments: ["scheduler", "worker"])
    func aBadURLNamesTheVariable(product: String) async throws {
        let outcome = try await run(product, ["run"], environment: ["REDIS_URL": "notaurl"])
        expectOneLineError(outcome, naming: ["REDIS_URL"], "\(product) with REDIS_URL=notaurl")
    }

    @Test(arguments: ["scheduler", "worker"])
    func aBadURLWithAPasswordDoesNotPrintIt(product: String) async throws {
        // A password but no host: invalid, and the password must stay hidden in the error.
        let outcome = try await run(product, ["run"], environment: ["AMQP_URL": "amqp://pool:url-Secret-4711@/%2f"])
        expectOneLineError(outcome, naming: ["AMQP_URL"], "\(product) with a host-less AMQP_URL")
    }

    @Test(arguments: ["scheduler", "worker"])
    func aMissingConfigFileNamesTheFile(product: String) async throws {
        let outcome = try await run(product, ["run", "--config", "/nope.json"])
        expectOneLineError(outcome, naming: ["/nope.json"], "\(product) --config /nope.json")
    }

    @Test(arguments: ["scheduler", "worker"])
    func anUnknownSetKeyNamesTheKey(product: String) async throws {
        let outcome = try await run(product, ["run", "--set", "Nonsense:Knob=1"])
        expectOneLineError(outcome, naming: ["Nonsense:Knob"], "\(product) --set Nonsense:Knob=1")
    }

    @Test func aBadSetValueNamesTheKey() async throws {
        let outcome = try await run("scheduler", ["check", "--set", "Worker:MaxSessions=0"])
        expectOneLineError(outcome, naming: ["Worker:MaxSessions"], "scheduler check --set Worker:MaxSessions=0")
    }

    @Test(arguments: ["scheduler", "worker"])
    func printConfigMasksThePasswords(product: String) async throws {
        let outcome = try await run(product, ["run", "--print-config"])
        #expect(outcome.status == 0, "\(outcome.output)")
        for secret in Self.secrets {
            #expect(!outcome.output.contains(secret), "--print-config shows a password:\n\(outcome.output)")
        }
        for variable in ["DATABASE_URL", "REDIS_URL", "AMQP_URL"] {
            let line = outcome.lines.first { $0.contains(variable) }
            #expect(line?.contains("***") == true, "\(variable) is not shown masked: \(line ?? "absent")")
            #expect(line?.contains("127.0.0.1") == true, "\(variable) loses more than its password: \(line ?? "absent")")
        }
        #expect(outcome.output.contains("ConnectionMonitor:CheckIntervalSeconds"))
    }

    @Test func printConfigShowsAnOverrideAndItsSource() async throws {
        let outcome = try await run("worker", ["run", "--print-config", "--set", "Worker:MaxSessions=77"])
        #expect(outcome.status == 0, "\(outcome.output)")
        let line = outcome.lines.first { $0.contains("Worker:MaxSessions") }
        #expect(line?.contains("77") == true, "\(line ?? "no Worker:MaxSessions line")")
    }

    @Test func theConsoleSaysWhyItDoesNotStart() async throws {
        let off = try await run("scheduler", ["console"])
        expectOneLineError(off, naming: ["Console:Port"], "scheduler console with the console off")
        let noToken = try await run("scheduler", ["console", "--port", "19470"])
        expectOneLineError(noToken, naming: ["Console:AdminToken"], "scheduler console --port without a token")
        let runWithoutToken = try await run("scheduler", ["run", "--set", "Console:Port=19470"])
        expectOneLineError(runWithoutToken, naming: ["Console:AdminToken"], "scheduler run with Console:Port and no token")
        let badPort = try await run("scheduler", ["console", "--port", "0"])
        expectOneLineError(badPort, naming: ["--port"], "scheduler console --port 0")
    }

    @Test func schedulerHelpListsItsCommands() async throws {
        let outcome = try await run("scheduler", ["--help"])
        #expect(outcome.status == 0, "\(outcome.output)")
        for command in ["run", "check", "queues", "dead", "status", "migrate", "workers", "console"] {
            #expect(outcome.output.range(of: "\\b\(command)\\b", options: .regularExpression) != nil, "scheduler --help does not list '\(command)':\n\(outcome.output)")
        }
    }

    @Test func workerHelpWorks() async throws {
        let outcome = try await run("worker", ["--help"])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.contains("run"), "\(outcome.output)")
        let runHelp = try await run("worker", ["run", "--help"])
        #expect(runHelp.status == 0, "\(runHelp.output)")
        for option in ["--config", "--set", "--print-config"] {
            #expect(runHelp.output.contains(option), "worker run --help does not show \(option):\n\(runHelp.output)")
        }
    }

    @Test func anUnknownSubcommandFails() async throws {
        let outcome = try await run("scheduler", ["reconcile-everything"])
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("reconcile-everything"), "\(outcome.output)")
    }
}

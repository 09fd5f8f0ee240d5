import ArgumentParser
import Foundation
import Logging
import Recovery
import RecoveryCore

/// Options every command shares: the config file, `--set` overrides and `--print-config`.
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("config"), help: "Config file (JSON). Default: config/defaults.json when present, else $POOL_CONFIG_DIR/defaults.json, else built-in defaults.")
    public var configFile: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one key, e.g. --set ConnectionMonitor:CheckIntervalSeconds=10 (repeatable).", valueName: "key=value"))
    public var overrides: [String] = []

    @Flag(name: .customLong("print-config"), help: "Print the effective configuration (secrets masked) and exit.")
    public var printConfig = false

    @Flag(help: "Operator commands: log at Log:Level (to standard error) instead of warnings only.")
    public var verbose = false

    public init() {}

    /// Loads and validates the configuration; one clear error naming the key or file otherwise.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PoolConfiguration {
        let contents = try configFileContents(environment: environment)
        do {
            return try ConfigurationLoader.load(fileContents: contents, environment: environment, overrides: overrides)
        } catch {
            throw StartupError("\(error)")
        }
    }

    func configFileContents(environment: [String: String]) throws -> String? {
        let explicit = configFile ?? environment["POOL_CONFIG_FILE"]
        if let explicit {
            guard let data = FileManager.default.contents(atPath: explicit) else {
                throw StartupError("config file '\(explicit)' does not exist or cannot be read")
            }
            return String(decoding: data, as: UTF8.self)
        }
        var candidates = ["config/defaults.json"]
        if let dir = environment["POOL_CONFIG_DIR"] { candidates.append(dir + "/defaults.json") }
        for candidate in candidates {
            if let data = FileManager.default.contents(atPath: candidate) { return String(decoding: data, as: UTF8.self) }
        }
        return nil
    }

    /// Loads the configuration, installs the log handler, and prints the configuration when asked
    /// (then exits). The one entry every command uses. An operator command (`operatorCommand`) logs
    /// warnings and worse only, unless `--verbose`: its output is its result, not the clients' chatter.
    public func bootstrap(label: String, operatorCommand: Bool = false) throws -> (PoolConfiguration, Logger) {
        let configuration = try load()
        if printConfig {
            print(ConfigurationPrinter.text(configuration), terminator: "")
            throw ExitCode.success
        }
        let configured = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let level = operatorCommand && !verbose ? max(configured, .warning) : configured
        PoolLogHandler.bootstrap(format: configuration.logFormat, level: level)
        return (configuration, Logger(label: label))
    }
}

/// A startup problem (bad configuration, unreadable config file): printed as one `Error:` line, exit 1.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

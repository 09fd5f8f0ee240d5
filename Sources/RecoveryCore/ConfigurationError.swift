/// Where a configuration value came from.
public enum ConfigurationSource: Sendable, Equatable, Hashable, CustomStringConvertible {
    case builtInDefault
    case file
    case environment(variable: String)
    case commandLine

    public var description: String {
        switch self {
        case .builtInDefault: return "built-in default"
        case .file: return "config file"
        case .environment(let variable): return "environment variable \(variable)"
        case .commandLine: return "command line"
        }
    }
}

/// A configuration problem found at start. Each names the key; values of URL keys are shown masked.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A value outside what the key accepts.
    case invalidValue(key: String, value: String, source: ConfigurationSource, expected: String)
    /// A key the pool does not know, in the file or on the command line.
    case unknownKey(key: String, source: ConfigurationSource)
    /// The config file is not a JSON object of sections (detail says where).
    case malformedFile(detail: String)
    /// A `--set` argument without `Key=Value` form.
    case malformedOverride(String)
    /// A connection URL a command needs is not set.
    case missingConnection(key: String)

    /// The key at fault, when there is one.
    public var key: String? {
        switch self {
        case .invalidValue(let key, _, _, _), .unknownKey(let key, _), .missingConnection(let key): return key
        case .malformedFile, .malformedOverride: return nil
        }
    }

    /// One line, whatever the user wrote.
    public var description: String { text.escapingControlCharacters }

    private var text: String {
        switch self {
        case .invalidValue(let key, let value, let source, let expected):
            return "invalid configuration \(key) = '\(value)' (from \(source)): expected \(expected)"
        case .unknownKey(let key, let source):
            return "unknown configuration key \(key) (from \(source))"
        case .malformedFile(let detail):
            return "malformed config file: \(detail)"
        case .malformedOverride(let text):
            return "malformed --set '\(text)': expected Key=Value, e.g. ConnectionMonitor:CheckIntervalSeconds=30"
        case .missingConnection(let key):
            return "\(key) is not set (environment variable \(key) or --set \(key)=...)"
        }
    }
}

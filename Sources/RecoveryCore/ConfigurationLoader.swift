import Foundation

/// Builds a `PoolConfiguration` from layers, later ones winning: built-in defaults, the config file,
/// the environment, then `--set Key=Value` options.
///
/// - File: JSON, sections as objects (`{"ConnectionMonitor": {"CheckIntervalSeconds": 30}}`) or flat
///   `"Section:Key"` names; numbers, strings, booleans, and arrays of numbers for list keys. Unknown keys
///   are errors.
/// - Environment: `Section__Key` (the ASP.NET form) or `Section:Key`, matched case-insensitively; the
///   connection URLs as `DATABASE_URL`, `REDIS_URL`, `AMQP_URL`. Other variables are ignored.
/// - Command line: `Section:Key=Value` or `Section__Key=Value`; unknown keys are errors.
public enum ConfigurationLoader {
    /// The resolved raw value of every key, with its source.
    public typealias Layered = [String: (value: String, source: ConfigurationSource)]

    /// Loads and validates. `fileContents` nil means no file (built-in defaults only).
    public static func load(
        fileContents: String?, environment: [String: String], overrides: [String]
    ) throws(ConfigurationError) -> PoolConfiguration {
        let layered = try layer(fileContents: fileContents, environment: environment, overrides: overrides)
        return try PoolConfiguration(layered: layered)
    }

    /// Resolves every key to its winning raw value, without validating the values.
    public static func layer(
        fileContents: String?, environment: [String: String], overrides: [String]
    ) throws(ConfigurationError) -> Layered {
        var values: Layered = [:]
        for key in ConfigurationKeys.all {
            values[key.name] = (key.defaultValue, .builtInDefault)
        }
        if let fileContents {
            for (name, value) in try fileEntries(fileContents) {
                guard let key = ConfigurationKeys.named(name) else { throw .unknownKey(key: name, source: .file) }
                values[key.name] = (value, .file)
            }
        }
        for variable in environment.keys.sorted() {
            guard let key = ConfigurationKeys.named(variable), let value = environment[variable] else { continue }
            values[key.name] = (value, .environment(variable: variable))
        }
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                throw .malformedOverride(StrictFields.excerpt(override))
            }
            let name = String(override[..<equals]).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw .malformedOverride("=...") }
            guard let key = ConfigurationKeys.named(name) else { throw .unknownKey(key: name, source: .commandLine) }
            values[key.name] = (String(override[override.index(after: equals)...]), .commandLine)
        }
        return values
    }

    /// The file's entries as (name, raw value) pairs, sections flattened with `:`.
    static func fileEntries(_ contents: String) throws(ConfigurationError) -> [(String, String)] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contents.utf8))
        } catch {
            throw .malformedFile(detail: "not valid JSON")
        }
        guard let root = object as? [String: Any] else { throw .malformedFile(detail: "the top level must be an object") }
        var entries: [(String, String)] = []
        func walk(_ dictionary: [String: Any], path: String) throws(ConfigurationError) {
            for name in dictionary.keys.sorted() {
                let full = path.isEmpty ? name : path + ":" + name
                let value = dictionary[name]!
                if let nested = value as? [String: Any] {
                    try walk(nested, path: full)
                } else if let raw = scalarText(value) {
                    entries.append((full, raw))
                } else if let array = value as? [Any] {
                    var parts: [String] = []
                    for element in array {
                        guard let raw = scalarText(element) else {
                            throw .malformedFile(detail: "\(full) must be an array of numbers or strings")
                        }
                        parts.append(raw)
                    }
                    entries.append((full, parts.joined(separator: ",")))
                } else if value is NSNull {
                    entries.append((full, ""))
                } else {
                    throw .malformedFile(detail: "\(full) has an unsupported value")
                }
            }
        }
        try walk(root, path: "")
        return entries
    }

    private static func scalarText(_ value: Any) -> String? {
        if let string = value as? String { return string }
        if let bool = value as? Bool, type(of: value) == Bool.self { return bool ? "true" : "false" }
        if let number = value as? NSNumber {
            // Foundation on Linux hands booleans back as NSNumber of C type `char`.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 1e15 { return String(Int64(double)) }
            return number.stringValue
        }
        return nil
    }
}

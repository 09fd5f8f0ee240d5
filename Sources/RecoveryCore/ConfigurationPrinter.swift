import ClientSupport
import Foundation

/// Renders a configuration for `--print-config`, with the password of every URL masked.
public enum ConfigurationPrinter {
    /// One `Key = value  # source` line per key, in `ConfigurationKeys.all` order.
    public static func text(_ configuration: PoolConfiguration) -> String {
        let width = ConfigurationKeys.all.map(\.name.count).max() ?? 0
        return ConfigurationKeys.all.map { key in
            let entry = configuration.resolved[key.name]!
            let padded = key.name.padding(toLength: width, withPad: " ", startingAt: 0)
            return "\(padded) = \(display(key, entry.value))  # \(entry.source)"
        }.joined(separator: "\n") + "\n"
    }

    /// `{"Key": {"value": "...", "source": "..."}, ...}` with sorted keys.
    public static func json(_ configuration: PoolConfiguration) -> String {
        var object: [String: [String: String]] = [:]
        for key in ConfigurationKeys.all {
            let entry = configuration.resolved[key.name]!
            object[key.name] = ["value": display(key, entry.value), "source": entry.source.description]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The key reference as a Markdown table (name, env form, default, meaning), for the README.
    public static func markdownReference() -> String {
        var lines = [
            "| key | environment | default | meaning |",
            "|---|---|---|---|",
        ]
        for key in ConfigurationKeys.all {
            let shownDefault = key.defaultValue.isEmpty ? "(unset)" : "`\(key.defaultValue)`"
            lines.append("| `\(key.name)` | `\(key.environmentName)` | \(shownDefault) | \(key.summary) Accepts \(key.expected). |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func display(_ key: ConfigurationKey, _ value: String) -> String {
        if value.isEmpty { return "(unset)" }
        if key.isSecret { return "(set)" }
        return key.isSecretBearing ? Redaction.connectionURL(value) : value
    }
}

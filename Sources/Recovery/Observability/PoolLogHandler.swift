import ClientSupport
import Foundation
import Logging
import RecoveryCore

/// A swift-log handler writing text or JSON lines to standard error, every message and metadata value
/// passed through `Redaction.text`.
public struct PoolLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let sink: LogSink

    public init(label: String, format: LogFormat, level: Logger.Level, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    /// Installs the handler for the whole process (once, at start).
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in PoolLogHandler(label: label, format: format, level: level) }
        LogSink.standardError.renderDroppedNotice { count in
            render(format: format, timestamp: Date(), level: .warning, label: "log", message: LogSink.droppedMessage(count), metadata: [:])
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        sink.write(PoolLogHandler.render(
            format: format, timestamp: Date(), level: event.level, label: label,
            message: event.message.description, metadata: merged))
    }

    /// One rendered line, newline included.
    static func render(format: LogFormat, timestamp: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        // The pool's own formatter: the same UTC milliseconds form, without a format style per line.
        let time = Timestamp.format(timestamp)
        let safeMessage = Redaction.text(message)
        let pairs = metadata.sorted { $0.key < $1.key }.map { ($0.key, Redaction.text(flatten($0.value))) }
        switch format {
        case .text:
            var line = "\(time) \(level) \(label): \(safeMessage)"
            for (key, value) in pairs { line += " \(key)=\(value)" }
            return line + "\n"
        case .json:
            var object: [String: Any] = ["timestamp": time, "level": level.rawValue, "label": label, "message": safeMessage]
            if !pairs.isEmpty { object["metadata"] = Dictionary(uniqueKeysWithValues: pairs) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }

    private static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): "[" + a.map(flatten).joined(separator: ",") + "]"
        case .dictionary(let d): "{" + d.sorted { $0.key < $1.key }.map { "\($0.key)=\(flatten($0.value))" }.joined(separator: ",") + "}"
        }
    }
}

import Foundation
import Synchronization

/// The latest overview and queue depths, computed once for every open live-update stream: a browser
/// tab costs the servers nothing more than one reading every `interval`.
public final class ConsoleLiveFeed: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var sequence: Int
        public var overview: String?
        public var queues: String?
    }

    private let state = Mutex<(snapshot: Snapshot, listeners: Int)>((Snapshot(sequence: 0), 0))

    public init() {}

    public var listeners: Int { state.withLock { $0.listeners } }
    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    public func publish(overview: String?, queues: String?) {
        state.withLock { state in
            state.snapshot.sequence += 1
            if let overview { state.snapshot.overview = overview }
            if let queues { state.snapshot.queues = queues }
        }
    }

    public func listen() { state.withLock { $0.listeners += 1 } }
    public func stopListening() { state.withLock { $0.listeners -= 1 } }

    /// One server-sent event.
    public static func event(_ name: String, data: String) -> [UInt8] {
        // The payloads are one-line JSON; a newline would end the event's data early.
        Array("event: \(name)\ndata: \(data.replacingOccurrences(of: "\n", with: " "))\n\n".utf8)
    }
}

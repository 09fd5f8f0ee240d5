import Foundation

/// One server-sent event.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event` field, `message` when absent.
    public var type: String
    public var data: String
    public var id: String?

    public init(type: String = "message", data: String, id: String? = nil) {
        self.type = type
        self.data = data
        self.id = id
    }
}

/// Incremental `text/event-stream` parser (WHATWG rules): feed bytes as they arrive, get whole events.
public struct ServerSentEventParser: Sendable {
    private var pending: [UInt8] = []
    private var sawCarriageReturn = false
    private var eventType = ""
    private var dataLines: [String] = []
    private var hasData = false
    private var lastId: String?

    public init() {}

    /// Feeds bytes; returns the events they complete.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        if let events = bytes.withContiguousStorageIfAvailable({ feed(buffer: $0) }) { return events }
        return Array(bytes).withUnsafeBufferPointer { feed(buffer: $0) }
    }

    /// Feeds a chunk of a response body.
    public mutating func feed(_ data: Data) -> [ServerSentEvent] {
        data.withUnsafeBytes { feed(buffer: $0.bindMemory(to: UInt8.self)) }
    }

    private mutating func feed(buffer: UnsafeBufferPointer<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        var index = 0
        let count = buffer.count
        while index < count {
            if sawCarriageReturn {
                sawCarriageReturn = false
                if buffer[index] == 0x0A {
                    index += 1
                    continue
                }
            }
            var end = index
            while end < count, buffer[end] != 0x0A, buffer[end] != 0x0D { end += 1 }
            pending.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<end]))
            guard end < count else { break }
            if buffer[end] == 0x0D { sawCarriageReturn = true }
            if let event = takeLine() { events.append(event) }
            index = end + 1
        }
        return events
    }

    private mutating func takeLine() -> ServerSentEvent? {
        let line = pending
        pending.removeAll(keepingCapacity: true)
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: String
        var value: String
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: line[..<colon], as: UTF8.self)
            var start = colon + 1
            if start < line.count, line[start] == UInt8(ascii: " ") { start += 1 }
            value = String(decoding: line[start...], as: UTF8.self)
        } else {
            field = String(decoding: line, as: UTF8.self)
            value = ""
        }
        switch field {
        case "event": eventType = value
        case "data": dataLines.append(value); hasData = true
        case "id": if !value.contains("\0") { lastId = value }
        default: break
        }
        value = ""
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventType = ""
            dataLines.removeAll()
            hasData = false
        }
        guard hasData else { return nil }
        return ServerSentEvent(type: eventType.isEmpty ? "message" : eventType, data: dataLines.joined(separator: "\n"), id: lastId)
    }
}

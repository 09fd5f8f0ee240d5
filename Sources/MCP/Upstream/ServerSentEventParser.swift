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
/// A line or an event over its limit fails the stream: the parser never holds more than the limits. The
/// events a chunk completed before the failure are still returned; the failure is then in `failure`, and
/// the next `feed` throws it.
public struct ServerSentEventParser: Sendable {
    public let maximumLineBytes: Int
    public let maximumEventBytes: Int
    private var pending: [UInt8] = []
    private var sawCarriageReturn = false
    private var eventType = ""
    private var dataLines: [String] = []
    /// Bytes the unfinished event holds: its data lines and the newlines joining them.
    private var eventBytes = 0
    private var hasData = false
    private var lastId: String?
    /// Set once a limit was passed; nothing after it is parsed.
    public private(set) var failure: ServerSentEventLimitError?
    /// Bytes of a leading byte order mark matched so far; nil once the stream's start is past.
    private var byteOrderMarkMatched: Int? = 0
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public init(maximumLineBytes: Int = .max, maximumEventBytes: Int = .max) {
        self.maximumLineBytes = max(1, maximumLineBytes)
        self.maximumEventBytes = max(1, maximumEventBytes)
    }

    /// Feeds bytes; returns the events they complete. Throws when a limit is passed before any of them.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws(ServerSentEventLimitError) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        let outcome = bytes.withContiguousStorageIfAvailable { feed(buffer: $0) }
            ?? Array(bytes).withUnsafeBufferPointer { feed(buffer: $0) }
        return try outcome.get()
    }

    /// Feeds a chunk of a response body.
    public mutating func feed(_ data: Data) throws(ServerSentEventLimitError) -> [ServerSentEvent] {
        try data.withUnsafeBytes { feed(buffer: $0.bindMemory(to: UInt8.self)) }.get()
    }

    private mutating func feed(buffer: UnsafeBufferPointer<UInt8>) -> Result<[ServerSentEvent], ServerSentEventLimitError> {
        // A failed stream stays failed: what follows an over-long line cannot be framed.
        if let failure { return .failure(failure) }
        var events: [ServerSentEvent] = []
        var index = 0
        let count = buffer.count
        // One leading U+FEFF is not part of the stream (WHATWG), even when split across chunks.
        while let matched = byteOrderMarkMatched, index < count {
            if buffer[index] == Self.byteOrderMark[matched] {
                index += 1
                byteOrderMarkMatched = matched + 1 == Self.byteOrderMark.count ? nil : matched + 1
            } else {
                pending.append(contentsOf: Self.byteOrderMark[..<matched])
                byteOrderMarkMatched = nil
            }
        }
        func failed(_ error: ServerSentEventLimitError) -> Result<[ServerSentEvent], ServerSentEventLimitError> {
            events.isEmpty ? .failure(error) : .success(events)
        }
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
            guard pending.count + (end - index) <= maximumLineBytes else {
                return failed(fail(.line, limit: maximumLineBytes))
            }
            pending.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<end]))
            guard end < count else { break }
            if buffer[end] == 0x0D { sawCarriageReturn = true }
            switch takeLine() {
            case .success(let event?): events.append(event)
            case .success(nil): break
            case .failure(let error): return failed(error)
            }
            index = end + 1
        }
        return .success(events)
    }

    /// Records the failure and drops what the parser holds.
    private mutating func fail(_ limit: ServerSentEventLimitError.Limit, limit bytes: Int) -> ServerSentEventLimitError {
        let error = ServerSentEventLimitError(limit: limit, maximumBytes: bytes)
        failure = error
        pending = []
        dataLines = []
        eventBytes = 0
        return error
    }

    private mutating func takeLine() -> Result<ServerSentEvent?, ServerSentEventLimitError> {
        let line = pending
        pending.removeAll(keepingCapacity: line.count <= 64 << 10)
        if line.isEmpty { return .success(dispatch()) }
        if line.first == UInt8(ascii: ":") { return .success(nil) }
        let field: String
        let value: String
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
        case "data":
            let added = value.utf8.count + (hasData ? 1 : 0)
            guard eventBytes + added <= maximumEventBytes else { return .failure(fail(.event, limit: maximumEventBytes)) }
            eventBytes += added
            dataLines.append(value)
            hasData = true
        case "id": if !value.utf8.contains(0) { lastId = value }
        default: break
        }
        return .success(nil)
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventType = ""
            dataLines.removeAll()
            eventBytes = 0
            hasData = false
        }
        guard hasData else { return nil }
        return ServerSentEvent(type: eventType.isEmpty ? "message" : eventType, data: dataLines.joined(separator: "\n"), id: lastId)
    }
}

import Glibc

/// The server broke the Redis protocol (RESP2); the message says how, without quoting values.
struct RedisProtocolError: Error, Equatable, CustomStringConvertible {
    let description: String
}

/// An incremental RESP2 reply parser over a growable byte buffer: bytes go in as they arrive (any split),
/// complete replies come out in order as `RedisReply` values, with no intermediate objects.
/// Nested arrays are built on a stack, so an array split across many reads is never parsed twice.
final class RedisReplyParser {
    /// Bulk strings longer than this are refused (Redis's own proto-max-bulk-len default).
    static let maximumBulkLength = 512 * 1024 * 1024
    /// Arrays longer than this are refused.
    static let maximumArrayCount = 1 << 32

    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Unparsed bytes are `storage[start..<end]`.
    private var start = 0
    private var end = 0
    /// Arrays being filled: how many elements each still expects, and those parsed so far.
    private var open: [(remaining: Int, elements: [RedisReply])] = []
    /// For `nextRaw`: how far past `start` the reply being scanned has been checked, and how many
    /// elements its open arrays still expect.
    private var scanOffset = 0
    private var scanRemaining: [Int] = []

    private let initialCapacity: Int

    init(initialCapacity: Int = 64 * 1024) {
        self.initialCapacity = max(initialCapacity, 64)
        capacity = self.initialCapacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deallocate()
    }

    /// Bytes received but not yet part of a returned reply.
    var bufferedCount: Int { end - start }

    /// Room for at least `minimum` more bytes, to receive into; call `commit` with how many arrived.
    func reserve(_ minimum: Int) -> UnsafeMutableRawBufferPointer {
        if start == end {
            start = 0
            end = 0
            if capacity > 1024 * 1024 && minimum <= initialCapacity {
                storage.deallocate()
                capacity = initialCapacity
                storage = .allocate(capacity: capacity)
            }
        }
        if capacity - end < minimum {
            if start > 0 {
                let count = end - start
                memmove(storage, storage + start, count)
                start = 0
                end = count
            }
            if capacity - end < minimum {
                let newCapacity = max(capacity * 2, end + minimum)
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
                grown.initialize(from: storage, count: end)
                storage.deallocate()
                storage = grown
                capacity = newCapacity
            }
        }
        return UnsafeMutableRawBufferPointer(start: storage + end, count: capacity - end)
    }

    /// Counts `count` bytes written into the space `reserve` returned.
    func commit(_ count: Int) {
        precondition(count >= 0 && end + count <= capacity, "committed more bytes than reserved")
        end += count
    }

    /// Copies `bytes` in (for callers that already hold the data).
    func append(_ bytes: some Collection<UInt8>) {
        let space = reserve(bytes.count)
        _ = space.initializeMemory(as: UInt8.self, from: bytes)
        commit(bytes.count)
    }

    /// The next complete reply, or nil when more bytes are needed.
    func next() throws(RedisProtocolError) -> RedisReply? {
        nextItem: while true {
            guard let (item, after) = try parseItem(at: start, materialize: true) else { return nil }
            start = after
            var value: RedisReply
            switch item {
            case let .value(reply):
                value = reply
            case let .arrayHeader(count):
                open.append((count, []))
                open[open.count - 1].elements.reserveCapacity(min(count, 4096))
                continue nextItem
            }
            // Place the value in the innermost open array, closing every array it completes.
            while !open.isEmpty {
                let top = open.count - 1
                open[top].elements.append(value)
                open[top].remaining -= 1
                if open[top].remaining > 0 { continue nextItem }
                value = .array(open.removeLast().elements)
            }
            return value
        }
    }

    /// Consumes the next complete reply without building it and passes its bytes to `body` (valid only
    /// during the call); false when it has not fully arrived. Resumes where the last call stopped, so a
    /// long array arriving over many reads is scanned once.
    func nextRaw(_ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(RedisProtocolError) -> Bool {
        nextItem: while true {
            guard let (item, after) = try parseItem(at: start + scanOffset, materialize: false) else { return false }
            scanOffset = after - start
            if case let .arrayHeader(count) = item {
                scanRemaining.append(count)
                continue nextItem
            }
            while let last = scanRemaining.indices.last {
                scanRemaining[last] -= 1
                if scanRemaining[last] > 0 { continue nextItem }
                scanRemaining.removeLast()
            }
            body(UnsafeBufferPointer(start: storage + start, count: scanOffset))
            start += scanOffset
            scanOffset = 0
            return true
        }
    }

    /// Decodes `count` complete replies that `nextRaw` delivered back to back.
    static func decode(_ bytes: [UInt8], count: Int) throws(RedisProtocolError) -> [RedisReply] {
        let parser = RedisReplyParser(initialCapacity: bytes.count)
        parser.append(bytes)
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        while replies.count < count {
            guard let reply = try parser.next() else {
                throw RedisProtocolError(description: "\(count) replies expected, \(replies.count) found")
            }
            replies.append(reply)
        }
        return replies
    }

    private enum Item {
        case value(RedisReply)
        /// A non-empty array whose elements follow.
        case arrayHeader(Int)
    }

    /// Parses one scalar reply or array header at `at`; returns it and the index after it, or nil when
    /// it has not fully arrived. With `materialize` false nothing is allocated (scalars come back as
    /// `.null`), but the framing and numbers are checked all the same.
    private func parseItem(at position: Int, materialize: Bool) throws(RedisProtocolError) -> (Item, Int)? {
        guard position < end else { return nil }
        guard let lineEnd = findLineEnd(from: position + 1) else {
            if end - position > 64 * 1024 {
                throw RedisProtocolError(description: "a reply header longer than 64 KiB without CRLF")
            }
            return nil
        }
        let marker = storage[position]
        let lineStart = position + 1
        let afterLine = lineEnd + 2
        switch marker {
        case UInt8(ascii: "+"):
            guard materialize else { return (.value(.null), afterLine) }
            let text: String
            if lineEnd - lineStart == 2 && storage[lineStart] == UInt8(ascii: "O") && storage[lineStart + 1] == UInt8(ascii: "K") {
                text = "OK"
            } else {
                text = String(decoding: UnsafeBufferPointer(start: storage + lineStart, count: lineEnd - lineStart), as: UTF8.self)
            }
            return (.value(.status(text)), afterLine)
        case UInt8(ascii: "-"):
            guard materialize else { return (.value(.null), afterLine) }
            let text = String(decoding: UnsafeBufferPointer(start: storage + lineStart, count: lineEnd - lineStart), as: UTF8.self)
            return (.value(.error(text)), afterLine)
        case UInt8(ascii: ":"):
            let value = try integer(lineStart, lineEnd, what: "integer reply")
            return (.value(.integer(value)), afterLine)
        case UInt8(ascii: "$"):
            let length = try integer(lineStart, lineEnd, what: "bulk string length")
            if length == -1 { return (.value(.null), afterLine) }
            guard length >= 0, length <= Self.maximumBulkLength else {
                throw RedisProtocolError(description: "invalid bulk string length \(length)")
            }
            let count = Int(length)
            guard end - afterLine >= count + 2 else { return nil }
            guard storage[afterLine + count] == 13, storage[afterLine + count + 1] == 10 else {
                throw RedisProtocolError(description: "a bulk string of \(count) bytes not followed by CRLF")
            }
            guard materialize else { return (.value(.null), afterLine + count + 2) }
            let bytes = [UInt8](UnsafeBufferPointer(start: storage + afterLine, count: count))
            return (.value(.bulk(bytes)), afterLine + count + 2)
        case UInt8(ascii: "*"):
            let count = try integer(lineStart, lineEnd, what: "array length")
            if count == -1 { return (.value(.null), afterLine) }
            guard count >= 0, count <= Self.maximumArrayCount else {
                throw RedisProtocolError(description: "invalid array length \(count)")
            }
            return (count == 0 ? .value(.array([])) : .arrayHeader(Int(count)), afterLine)
        default:
            throw RedisProtocolError(description: "unknown reply type byte 0x\(String(marker, radix: 16))")
        }
    }

    /// The index of the CR of the first CRLF at or after `index`, or nil when none has arrived.
    private func findLineEnd(from index: Int) -> Int? {
        var position = index
        while position + 1 < end {
            guard let found = memchr(storage + position, 13, end - position - 1) else { return nil }
            let at = storage.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if storage[at + 1] == 10 { return at }
            position = at + 1
        }
        return nil
    }

    private func integer(_ from: Int, _ to: Int, what: String) throws(RedisProtocolError) -> Int64 {
        var index = from
        var negative = false
        if index < to && storage[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < to, to - index <= 19 else {
            throw RedisProtocolError(description: "malformed \(what)")
        }
        var value: Int64 = 0
        while index < to {
            let digit = storage[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw RedisProtocolError(description: "malformed \(what)") }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { throw RedisProtocolError(description: "\(what) out of range") }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }
}

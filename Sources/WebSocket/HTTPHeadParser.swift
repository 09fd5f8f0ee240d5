/// Accumulates bytes until a complete HTTP/1.1 head (the start line and headers up to the blank line) is in,
/// refusing heads larger than a limit. Bytes after the blank line belong to the next protocol and are returned.
public struct HTTPHeadParser: Sendable {
    /// What a call to `parse` found.
    public enum Result<Head: Sendable & Hashable>: Sendable, Hashable {
        case needMoreBytes
        /// The head, and whatever bytes followed it (the first WebSocket frames, possibly).
        case complete(Head, remainingBytes: [UInt8])
    }

    /// The largest head accepted, blank line included.
    public let maxHeadSize: Int
    private var buffer: [UInt8] = []
    private var scanFrom = 0

    public init(maxHeadSize: Int = 16 * 1024) {
        self.maxHeadSize = maxHeadSize
    }

    /// Appends bytes and parses a response head once the blank line is in.
    public mutating func parseResponse(_ bytes: some Sequence<UInt8>) throws(WebSocketHandshakeError) -> Result<HTTPResponseHead> {
        guard let (lines, remaining) = try accumulate(bytes) else { return .needMoreBytes }
        let statusLine = lines[0]
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]),
            (100...599).contains(status)
        else { throw .malformedHead("invalid status line") }
        let head = HTTPResponseHead(
            version: String(parts[0]), status: status, reason: parts.count == 3 ? String(parts[2]) : "",
            headers: try Self.headers(lines.dropFirst()))
        return .complete(head, remainingBytes: remaining)
    }

    /// Appends bytes and parses a request head once the blank line is in.
    public mutating func parseRequest(_ bytes: some Sequence<UInt8>) throws(WebSocketHandshakeError) -> Result<HTTPRequestHead> {
        guard let (lines, remaining) = try accumulate(bytes) else { return .needMoreBytes }
        let parts = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].hasPrefix("HTTP/1.") else {
            throw .malformedHead("invalid request line")
        }
        let head = HTTPRequestHead(
            method: String(parts[0]), target: String(parts[1]), version: String(parts[2]),
            headers: try Self.headers(lines.dropFirst()))
        return .complete(head, remainingBytes: remaining)
    }

    /// The head's lines and the bytes after it, or nil while the blank line is missing.
    private mutating func accumulate(_ bytes: some Sequence<UInt8>) throws(WebSocketHandshakeError) -> ([Substring], [UInt8])? {
        buffer.append(contentsOf: bytes)
        var index = max(scanFrom, 3)
        while index < buffer.count {
            if buffer[index] == 0x0A, buffer[index - 1] == 0x0D, buffer[index - 2] == 0x0A, buffer[index - 3] == 0x0D {
                let headEnd = index + 1
                guard headEnd <= maxHeadSize else { throw .headTooLarge(limit: maxHeadSize) }
                let text = String(decoding: buffer[..<(headEnd - 4)], as: UTF8.self)
                let remaining = Array(buffer[headEnd...])
                buffer = []
                scanFrom = 0
                let lines = Self.lines(of: text)
                guard let first = lines.first, !first.isEmpty else { throw .malformedHead("empty start line") }
                return (lines, remaining)
            }
            index += 1
        }
        scanFrom = max(index, 3)
        if buffer.count > maxHeadSize { throw .headTooLarge(limit: maxHeadSize) }
        return nil
    }

    /// The text's CRLF-separated lines, found over its UTF-8 bytes (CR LF is one grapheme that nothing
    /// extends, so this splits where a split on the `"\r\n"` character would, without grapheme breaking).
    private static func lines(of text: String) -> [Substring] {
        let utf8 = text.utf8
        var lines: [Substring] = []
        var lineStart = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let next = utf8.index(after: index)
            if utf8[index] == 0x0D, next != utf8.endIndex, utf8[next] == 0x0A {
                lines.append(text[lineStart..<index])
                index = utf8.index(after: next)
                lineStart = index
            } else {
                index = next
            }
        }
        lines.append(text[lineStart...])
        return lines
    }

    private static func headers(_ lines: ArraySlice<Substring>) throws(WebSocketHandshakeError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw .malformedHead("header line without a name")
            }
            let name = line[..<colon]
            guard !name.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw .malformedHead("whitespace in a header name")
            }
            headers.add(name: String(name), value: line[line.index(after: colon)...].trimmingWhitespace())
        }
        return headers
    }
}

import Foundation

/// Takes a response body out of the bytes read from the connection, by its framing: a fixed length,
/// chunked transfer coding, or up to the end of the connection. Pure: the caller reads the socket
/// and feeds what it read; the decoder never holds more than the caller's buffer.
struct HTTPBodyDecoder: Sendable {
    enum Step: Equatable {
        /// Body bytes, in order.
        case bytes(Data)
        /// The buffer holds no complete piece: read more.
        case needMore
        /// The body is complete.
        case end
    }

    struct DecodeError: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    private enum State: Equatable {
        case fixed(remaining: Int)
        case untilClose
        /// Waiting for a chunk-size line.
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkEnd
        /// Trailer lines after the last chunk, up to a blank line.
        case trailers
        case done
    }

    /// Longest chunk-size or trailer line accepted.
    static let maximumLineBytes = 8192

    private var state: State

    init(framing: HTTPResponseHead.Framing) {
        switch framing {
        case .none: state = .done
        case .length(let count): state = count == 0 ? .done : .fixed(remaining: count)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    var isComplete: Bool { state == .done }

    /// Takes what it can from `buffer[start...]`, at most `maximum` body bytes at once, moving `start` past
    /// what it used.
    mutating func next(_ buffer: [UInt8], start: inout Int, maximum: Int) throws(DecodeError) -> Step {
        while true {
            let available = buffer.count - start
            switch state {
            case .done:
                return .end
            case .fixed(let remaining):
                guard available > 0 else { return .needMore }
                let count = min(available, remaining, maximum)
                let bytes = Data(buffer[start..<start + count])
                start += count
                state = remaining == count ? .done : .fixed(remaining: remaining - count)
                return .bytes(bytes)
            case .untilClose:
                guard available > 0 else { return .needMore }
                let count = min(available, maximum)
                let bytes = Data(buffer[start..<start + count])
                start += count
                return .bytes(bytes)
            case .chunkData(let remaining):
                guard available > 0 else { return .needMore }
                let count = min(available, remaining, maximum)
                let bytes = Data(buffer[start..<start + count])
                start += count
                state = remaining == count ? .chunkEnd : .chunkData(remaining: remaining - count)
                return .bytes(bytes)
            case .chunkEnd:
                guard available >= 2 else { return .needMore }
                guard buffer[start] == 0x0D, buffer[start + 1] == 0x0A else { throw DecodeError(description: "a chunk not followed by CRLF") }
                start += 2
                state = .chunkSize
            case .chunkSize:
                guard let line = try takeLine(buffer, &start) else { return .needMore }
                // Extensions after ';' are ignored.
                let sizeText = String(decoding: line.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                // Hex digits only: `Int(_:radix:)` would also take a sign (`+a`, `-0`).
                guard !sizeText.isEmpty, sizeText.count <= 15, sizeText.allSatisfy(\.isHexDigit),
                      let size = Int(sizeText, radix: 16) else {
                    throw DecodeError(description: "an invalid chunk size")
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .trailers:
                guard let line = try takeLine(buffer, &start) else { return .needMore }
                if line.isEmpty { state = .done }
            }
        }
    }

    /// The connection ended: fine only for a body delimited by the end.
    mutating func finish() throws(DecodeError) {
        switch state {
        case .untilClose: state = .done
        case .done: break
        default: throw DecodeError(description: "the connection closed before the answer ended")
        }
    }

    /// One CRLF-terminated line, without its CRLF; nil when it has not all arrived.
    private func takeLine(_ buffer: [UInt8], _ start: inout Int) throws(DecodeError) -> ArraySlice<UInt8>? {
        var index = start
        while index + 1 < buffer.count {
            if buffer[index] == 0x0D, buffer[index + 1] == 0x0A {
                let line = buffer[start..<index]
                start = index + 2
                return line
            }
            index += 1
            if index - start > Self.maximumLineBytes { throw DecodeError(description: "a chunk-size or trailer line over \(Self.maximumLineBytes) bytes") }
        }
        if buffer.count - start > Self.maximumLineBytes { throw DecodeError(description: "a chunk-size or trailer line over \(Self.maximumLineBytes) bytes") }
        return nil
    }
}

import Foundation

/// Chunked transfer coding (RFC 9112 section 7.1) read plainly from a whole body: the oracle for the body
/// decoder's framing. Every chunk-size and trailer line ends in CRLF, every chunk's data is followed by CRLF,
/// and the body is exactly the chunks' data. The size text itself is read as the decoder documents it
/// (extensions after ';' dropped, surrounding white space trimmed, at most 15 characters, hexadecimal
/// digits only, as RFC 9112's `chunk-size = 1*HEXDIG`): what this checks is the framing around it.
enum ReferenceChunkedBody {
    /// The decoder's bound on one chunk-size or trailer line.
    static let maximumLineBytes = 8192

    /// The body, or nil when the bytes are not a complete, well-framed chunked body.
    static func decode(_ bytes: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let (line, next) = line(in: bytes, from: index), let size = size(of: line) else { return nil }
            index = next
            if size == 0 { break }
            guard bytes.count - index >= size + 2 else { return nil }
            body += bytes[index..<(index + size)]
            guard bytes[index + size] == 0x0D, bytes[index + size + 1] == 0x0A else { return nil }
            index += size + 2
        }
        // Trailer fields up to the empty line; their content is not the body's.
        while true {
            guard let (line, next) = line(in: bytes, from: index) else { return nil }
            if line.isEmpty { return body }
            index = next
        }
    }

    /// The bytes from `start` to the next CRLF and the offset after it; nil when no CRLF ends the line in
    /// time.
    private static func line(in bytes: [UInt8], from start: Int) -> (ArraySlice<UInt8>, Int)? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A {
                return index - start > maximumLineBytes ? nil : (bytes[start..<index], index + 2)
            }
            index += 1
        }
        return nil
    }

    private static func size(of line: ArraySlice<UInt8>) -> Int? {
        let beforeExtensions = line.prefix { $0 != UInt8(ascii: ";") }
        let text = String(decoding: beforeExtensions, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.count <= 15, text.allSatisfy(\.isHexDigit), text.allSatisfy(\.isASCII) else { return nil }
        return text.reduce(0) { $0 * 16 + $1.hexDigitValue! }
    }
}

@testable import RedisClient
import Testing

/// The RESP2 reply parser as a pure unit: byte fixtures in, `RedisReply` values out.
@Suite struct RedisReplyParserTests {
    /// Every reply the parser yields for `bytes` fed in one piece.
    private func parseAll(_ bytes: [UInt8]) throws -> [RedisReply] {
        let parser = RedisReplyParser()
        parser.append(bytes)
        var replies: [RedisReply] = []
        while let reply = try parser.next() { replies.append(reply) }
        #expect(parser.bufferedCount == 0, "bytes left over")
        return replies
    }

    /// Every reply, feeding `bytes` in pieces of `size` and collecting replies after each piece.
    private func parseInPieces(_ bytes: [UInt8], size: Int) throws -> [RedisReply] {
        let parser = RedisReplyParser(initialCapacity: 64)
        var replies: [RedisReply] = []
        var index = 0
        while index < bytes.count {
            let piece = bytes[index..<min(index + size, bytes.count)]
            parser.append(piece)
            index += piece.count
            while let reply = try parser.next() { replies.append(reply) }
        }
        return replies
    }

    private static let mixed: [UInt8] = Array("+OK\r\n+PONG\r\n-ERR wrong type\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n".utf8)
    private static let mixedReplies: [RedisReply] = [
        .status("OK"), .status("PONG"), .error("ERR wrong type"), .integer(42), .integer(-7),
        .bulk(Array("hello".utf8)), .bulk([]), .null, .null, .array([]),
    ]

    @Test func parsesEveryScalarKind() throws {
        #expect(try parseAll(Self.mixed) == Self.mixedReplies)
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0x24, 0x33, 0x0D, 0x0A, 0xFF, 0x2A]
        let bytes = Array("$\(value.count)\r\n".utf8) + value + Array("\r\n".utf8)
        #expect(try parseAll(bytes) == [.bulk(value)])
        #expect(try parseInPieces(bytes, size: 1) == [.bulk(value)])
    }

    @Test func parsesNestedArraysWithNils() throws {
        let bytes = Array("*3\r\n:1\r\n*2\r\n$3\r\nfoo\r\n*1\r\n$-1\r\n*0\r\n+after\r\n".utf8)
        let expected: [RedisReply] = [
            .array([.integer(1), .array([.bulk(Array("foo".utf8)), .array([.null])]), .array([])]),
            .status("after"),
        ]
        #expect(try parseAll(bytes) == expected)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 13])
    func anySplitOfTheInputGivesTheSameReplies(size: Int) throws {
        let nested = Array("*2\r\n*2\r\n:10\r\n$4\r\nab\r\n\r\n-ERR x\r\n".utf8)
        let bytes = Self.mixed + nested
        let expected = Self.mixedReplies + [.array([.array([.integer(10), .bulk(Array("ab\r\n".utf8))]), .error("ERR x")])]
        #expect(try parseInPieces(bytes, size: size) == expected)
    }

    @Test func bigBulkStringSplitAcrossManyReads() throws {
        let value = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let bytes = Array("$\(value.count)\r\n".utf8) + value + Array("\r\n:1\r\n".utf8)
        let parser = RedisReplyParser(initialCapacity: 1024)
        var replies: [RedisReply] = []
        var index = 0
        while index < bytes.count {
            let space = parser.reserve(16 * 1024)
            let count = min(space.count, bytes.count - index, 16 * 1024)
            space.copyBytes(from: bytes[index..<index + count])
            parser.commit(count)
            index += count
            while let reply = try parser.next() { replies.append(reply) }
            if index < bytes.count - 5 { #expect(replies.isEmpty) }
        }
        #expect(replies == [.bulk(value), .integer(1)])
    }

    @Test func incompleteReplyWaitsForMoreBytes() throws {
        let parser = RedisReplyParser()
        parser.append(Array("*2\r\n$3\r\nab".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("c\r\n:".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("5\r".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("\n".utf8))
        #expect(try parser.next() == .array([.bulk(Array("abc".utf8)), .integer(5)]))
        #expect(try parser.next() == nil)
    }

    @Test func integersAtTheLimitsOfInt64() throws {
        let bytes = Array(":9223372036854775807\r\n:-9223372036854775807\r\n".utf8)
        #expect(try parseAll(bytes) == [.integer(.max), .integer(-.max)])
    }

    @Test(arguments: [
        ("!3\r\nabc\r\n", "unknown reply type"),
        (":12x\r\n", "malformed integer reply"),
        (":\r\n", "malformed integer reply"),
        (":99999999999999999999\r\n", "integer reply"),
        ("$-5\r\n", "invalid bulk string length"),
        ("$3\r\nabcd\r\n", "not followed by CRLF"),
        ("*-2\r\n", "invalid array length"),
        ("$abc\r\n", "malformed bulk string length"),
    ])
    func malformedInputIsOneClearError(input: String, expected: String) {
        let parser = RedisReplyParser()
        parser.append(Array(input.utf8))
        #expect {
            _ = try parser.next()
        } throws: { error in
            guard let error = error as? RedisProtocolError else { return false }
            return error.description.contains(expected)
        }
    }

    @Test func statusAndErrorTextIsDecodedAsUTF8() throws {
        #expect(try parseAll(Array("+小智\r\n-ERR 坏\r\n".utf8)) == [.status("小智"), .error("ERR 坏")])
    }

    /// Splits `bytes` into whole replies with `nextRaw`, feeding pieces of `size`.
    private func rawRepliesInPieces(_ bytes: [UInt8], size: Int) throws -> [[UInt8]] {
        let parser = RedisReplyParser(initialCapacity: 64)
        var raws: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let piece = bytes[index..<min(index + size, bytes.count)]
            parser.append(piece)
            index += piece.count
            while try parser.nextRaw({ raws.append(Array($0)) }) {}
        }
        #expect(parser.bufferedCount == 0)
        return raws
    }

    @Test(arguments: [1, 3, 4, 64, 100_000])
    func rawSplittingFindsEachWholeReplyAndDecodesToTheSameValues(size: Int) throws {
        let nested = Array("*3\r\n:1\r\n*2\r\n$3\r\nfoo\r\n*1\r\n$-1\r\n*0\r\n".utf8)
        let big = [UInt8](repeating: 0x0D, count: 5000)
        let bulk = Array("$5000\r\n".utf8) + big + Array("\r\n".utf8)
        let bytes = Self.mixed + nested + bulk
        let raws = try rawRepliesInPieces(bytes, size: size)
        #expect(raws.count == Self.mixedReplies.count + 2)
        #expect(raws.flatMap { $0 } == bytes)
        #expect(raws[raws.count - 2] == nested)
        #expect(raws.last == bulk)
        let decoded = try RedisReplyParser.decode(raws.flatMap { $0 }, count: raws.count)
        #expect(decoded == Self.mixedReplies + [
            .array([.integer(1), .array([.bulk(Array("foo".utf8)), .array([.null])]), .array([])]),
            .bulk(big),
        ])
    }

    @Test func rawSplittingChecksTheFramingToo() {
        let parser = RedisReplyParser()
        parser.append(Array("*2\r\n:1\r\n$2\r\nabc\r\n".utf8))
        #expect(throws: RedisProtocolError.self) {
            _ = try parser.nextRaw { _ in }
        }
    }

    @Test func decodingFewerRepliesThanExpectedIsAnError() {
        #expect(throws: RedisProtocolError.self) {
            _ = try RedisReplyParser.decode(Array("+OK\r\n".utf8), count: 2)
        }
    }
}

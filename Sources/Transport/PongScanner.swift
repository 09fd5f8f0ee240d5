/// Follows frame boundaries in the bytes a client receives and reports each pong's payload, so a
/// session can time its pings (the connection state machine answers pings but does not surface pongs).
/// It only reads headers and skips payloads; validating frames stays the state machine's job.
struct PongScanner {
    private var header: [UInt8] = []
    private var remaining = 0
    private var pong: [UInt8]?

    mutating func scan(_ bytes: UnsafeRawBufferPointer, onPong: ([UInt8]) -> Void) {
        var index = 0
        let count = bytes.count
        while index < count {
            if remaining > 0 {
                let take = min(remaining, count - index)
                if pong != nil { pong!.append(contentsOf: bytes[index..<(index + take)]) }
                index += take
                remaining -= take
                if remaining == 0, let payload = pong {
                    pong = nil
                    onPong(payload)
                }
                continue
            }
            header.append(bytes[index])
            index += 1
            guard header.count >= 2 else { continue }
            let short = header[1] & 0x7F
            let masked = header[1] & 0x80 != 0
            let needed = 2 + (short == 126 ? 2 : short == 127 ? 8 : 0) + (masked ? 4 : 0)
            guard header.count >= needed else { continue }
            var length: UInt64 = UInt64(short)
            if short == 126 { length = UInt64(header[2]) << 8 | UInt64(header[3]) }
            if short == 127 { length = header[2..<10].reduce(0) { $0 << 8 | UInt64($1) } }
            let isPong = header[0] & 0x0F == 0xA
            header.removeAll(keepingCapacity: true)
            remaining = Int(clamping: length)
            if isPong {
                if remaining == 0 { onPong([]) } else { pong = [] }
            }
        }
    }
}

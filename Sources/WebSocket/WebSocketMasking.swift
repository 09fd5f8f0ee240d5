/// XOR masking of payloads, a machine word at a time.
public enum WebSocketMasking {
    /// XORs `buffer` in place with `key`. `phase` is the index into the key (0-3) of the buffer's first byte,
    /// so a payload can be unmasked in pieces as it arrives. Masking twice with the same key restores the bytes.
    public static func apply(_ key: WebSocketMaskingKey, to buffer: UnsafeMutableRawBufferPointer, phase: Int = 0) {
        let count = buffer.count
        guard count > 0, let base = buffer.baseAddress else { return }
        // The key rotated left by `phase` bytes: its first byte is the one for the buffer's first byte.
        let shift = UInt32(phase & 3) * 8
        let rotated = shift == 0 ? key.rawValue : key.rawValue << shift | key.rawValue >> (32 - shift)
        let k0 = UInt8(rotated >> 24), k1 = UInt8(truncatingIfNeeded: rotated >> 16)
        let k2 = UInt8(truncatingIfNeeded: rotated >> 8), k3 = UInt8(truncatingIfNeeded: rotated)

        // The rotated key repeated twice, laid out in memory order, whatever the host's endianness.
        var pattern: UInt64 = 0
        withUnsafeMutableBytes(of: &pattern) { word in
            word[0] = k0; word[1] = k1; word[2] = k2; word[3] = k3
            word[4] = k0; word[5] = k1; word[6] = k2; word[7] = k3
        }

        var offset = 0
        while offset &+ 32 <= count {
            let a = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let b = base.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt64.self)
            let c = base.loadUnaligned(fromByteOffset: offset &+ 16, as: UInt64.self)
            let d = base.loadUnaligned(fromByteOffset: offset &+ 24, as: UInt64.self)
            base.storeBytes(of: a ^ pattern, toByteOffset: offset, as: UInt64.self)
            base.storeBytes(of: b ^ pattern, toByteOffset: offset &+ 8, as: UInt64.self)
            base.storeBytes(of: c ^ pattern, toByteOffset: offset &+ 16, as: UInt64.self)
            base.storeBytes(of: d ^ pattern, toByteOffset: offset &+ 24, as: UInt64.self)
            offset &+= 32
        }
        while offset &+ 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            base.storeBytes(of: word ^ pattern, toByteOffset: offset, as: UInt64.self)
            offset &+= 8
        }
        // `offset` is a multiple of 8 here, so the key phase of the tail restarts at k0.
        let tail = (k0, k1, k2, k3)
        while offset < count {
            let key: UInt8
            switch offset & 3 {
            case 0: key = tail.0
            case 1: key = tail.1
            case 2: key = tail.2
            default: key = tail.3
            }
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            base.storeBytes(of: byte ^ key, toByteOffset: offset, as: UInt8.self)
            offset &+= 1
        }
    }

    /// XORs `bytes` in place with `key`, starting at key index `phase`.
    public static func apply(_ key: WebSocketMaskingKey, to bytes: inout [UInt8], phase: Int = 0) {
        bytes.withUnsafeMutableBytes { apply(key, to: $0, phase: phase) }
    }

    /// XORs a slice of an array in place.
    public static func apply(_ key: WebSocketMaskingKey, to bytes: inout [UInt8], range: Range<Int>, phase: Int = 0) {
        bytes.withUnsafeMutableBytes { buffer in
            apply(key, to: UnsafeMutableRawBufferPointer(rebasing: buffer[range]), phase: phase)
        }
    }
}

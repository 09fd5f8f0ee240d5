/// The fuzzer's bytes, read as a few setting bytes followed by the data to decode. The settings choose the
/// options a target varies (role, limits, masking key) and where the data is cut into the pieces it is fed
/// in, so that the fuzzer itself explores every way the bytes can arrive from a socket.
struct FuzzInput {
    /// The setting bytes, zero-padded when the input is shorter than the target asked for.
    let settings: [UInt8]
    /// Everything after the setting bytes.
    let data: [UInt8]

    init(_ bytes: UnsafePointer<UInt8>, count: Int, settingCount: Int) {
        let all = Array(UnsafeBufferPointer(start: bytes, count: count))
        let taken = min(settingCount, all.count)
        settings = Array(all[..<taken]) + [UInt8](repeating: 0, count: settingCount - taken)
        data = Array(all[taken...])
    }

    /// The setting byte at `index`.
    func setting(_ index: Int) -> UInt8 { settings[index] }

    /// Whether bit `bit` of setting byte `index` is set.
    func flag(_ index: Int, bit: Int) -> Bool { settings[index] & (1 << bit) != 0 }

    /// `bytes` cut into consecutive pieces whose lengths (1-256) cycle through `pattern`; an empty pattern
    /// leaves one piece. Concatenated, the pieces are `bytes` again.
    static func pieces(of bytes: [UInt8], lengths pattern: [UInt8]) -> [[UInt8]] {
        guard !pattern.isEmpty else { return bytes.isEmpty ? [] : [bytes] }
        var pieces: [[UInt8]] = []
        var start = 0
        var turn = 0
        while start < bytes.count {
            let length = Int(pattern[turn % pattern.count]) + 1
            let end = min(bytes.count, start + length)
            pieces.append(Array(bytes[start..<end]))
            start = end
            turn += 1
        }
        return pieces
    }
}

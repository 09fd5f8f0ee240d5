/// UTF-8 validity by the standard library's own validation, as the oracle for the incremental validator: a
/// text is valid whole, and a fragment is acceptable when some continuation could still make it valid.
enum ReferenceUTF8 {
    static func isValid(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }

    /// Whether `bytes` can still become valid UTF-8: valid as it is, or made valid by one to three more
    /// bytes. 0x80, 0x90 and 0xA0 between them satisfy every second-byte range of table 3-7 (E0: A0-BF,
    /// ED: 80-9F, F0: 90-BF, F4: 80-8F, others 80-BF), so trying them finds a completion when one exists.
    static func isValidPrefix(_ bytes: [UInt8]) -> Bool {
        if isValid(bytes) { return true }
        let candidates: [UInt8] = [0x80, 0x90, 0xA0]
        var endings: [[UInt8]] = [[]]
        for _ in 1...3 {
            endings = endings.flatMap { ending in candidates.map { ending + [$0] } }
            if endings.contains(where: { isValid(bytes + $0) }) { return true }
        }
        return false
    }
}

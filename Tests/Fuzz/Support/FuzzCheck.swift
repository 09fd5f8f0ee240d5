/// Stops the run when an invariant of the decoder under test does not hold: the trap makes libFuzzer keep
/// the input that broke it, and the message says which rule failed.
func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// The bytes as hex, for messages about a broken invariant (inputs here are small).
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}

extension String {
    /// The text with every control character (C0, DEL, C1, and the Unicode line and paragraph separators)
    /// written as `\u{XX}`: a value quoted in an error or a log line cannot break it into several lines or
    /// forge another.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: \.isLineBreaking) else { return self }
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar.isLineBreaking {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}

extension Unicode.Scalar {
    fileprivate var isLineBreaking: Bool {
        value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
    }
}

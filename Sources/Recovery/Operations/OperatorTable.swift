/// An aligned plain-text table for the operator commands: a header row and columns padded to the
/// widest cell, counting East Asian wide characters (endpoint names are often Chinese) as two columns.
public struct OperatorTable: Sendable, Equatable {
    public var headers: [String]
    public private(set) var rows: [[String]] = []

    public init(headers: [String]) {
        self.headers = headers
    }

    /// Appends a row; missing cells are blank, extra cells are dropped, control characters become `?`.
    public mutating func append(_ cells: [String]) {
        var row = cells.prefix(headers.count).map(Self.printable)
        while row.count < headers.count { row.append("") }
        rows.append(row)
    }

    /// The table as lines joined by newlines (no trailing newline); columns two spaces apart.
    public func rendered() -> String {
        var widths = headers.map(Self.displayWidth)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], Self.displayWidth(cell)) }
        }
        return ([headers] + rows).map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 {
                    line += String(repeating: " ", count: widths[index] - Self.displayWidth(cell) + 2)
                }
            }
            return line
        }.joined(separator: "\n")
    }

    /// Replaces control characters, so a stored name cannot break the layout or the terminal.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }

    /// Terminal columns a string takes: two for East Asian wide and full-width characters, else one.
    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .format: return width
            default: return width + (isWide(scalar.value) ? 2 : 1)
            }
        }
    }

    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}

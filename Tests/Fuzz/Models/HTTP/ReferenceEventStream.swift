/// The WHATWG event-stream interpretation (HTML, "Server-sent events", parsing an event stream) over a whole
/// stream, without limits: the oracle for the incremental parser. Lines end at CRLF, LF or CR; an empty line
/// dispatches the event when it has data; `:` starts a comment; one space after the colon is dropped; the
/// last event id carries over to later events. (The spec's leading byte-order mark is not modelled.)
enum ReferenceEventStream {
    static func parse(_ bytes: [UInt8]) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        var type = ""
        var data: [String] = []
        var lastId: String?
        for line in lines(bytes) {
            if line.isEmpty {
                if !data.isEmpty {
                    events.append(ServerSentEvent(type: type.isEmpty ? "message" : type, data: data.joined(separator: "\n"), id: lastId))
                }
                type = ""
                data = []
                continue
            }
            if line.first == UInt8(ascii: ":") { continue }
            let colon = line.firstIndex(of: UInt8(ascii: ":"))
            let name = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
            var value = colon.map { line[($0 + 1)...] } ?? []
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
            let text = String(decoding: value, as: UTF8.self)
            switch name {
            case "event": type = text
            case "data": data.append(text)
            case "id": if !value.contains(0) { lastId = text }
            default: break
            }
        }
        // An event not ended by an empty line is never dispatched.
        return events
    }

    /// The complete lines of the stream (a last line without its end is dropped).
    private static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case 0x0A:
                lines.append(bytes[start..<index])
                index += 1
            case 0x0D:
                lines.append(bytes[start..<index])
                index += index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
            default:
                index += 1
                continue
            }
            start = index
        }
        return lines
    }
}

/// The console's static files, served from the binary (no build step, no files beside it).
public enum ConsoleAssets {
    public struct Asset: Sendable {
        public var contentType: String
        public var body: [UInt8]
    }

    public static func named(_ name: String) -> Asset? {
        switch name {
        case "console.css": Asset(contentType: "text/css; charset=utf-8", body: Array(ConsoleStyle.css.utf8))
        case "console.js": Asset(contentType: "text/javascript; charset=utf-8", body: Array(ConsoleScript.js.utf8))
        default: nil
        }
    }
}

/// The MCP protocol revisions this server speaks.
public enum MCPProtocolVersion {
    /// Oldest first.
    public static let supported = ["2024-11-05", "2025-03-26", "2025-06-18"]
    public static let latest = "2025-06-18"

    /// The client's version when we support it, else our latest.
    public static func negotiate(clientVersion: String?) -> String {
        if let clientVersion, supported.contains(clientVersion) { return clientVersion }
        return latest
    }
}

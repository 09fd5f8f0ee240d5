/// The original platform's four tables (SPEC §4), named under a table prefix, and the SQL the pool runs
/// against them. The prefix is validated so that it can never carry SQL; every value is a parameter.
public struct EndpointSchema: Sendable, Equatable {
    public let prefix: String

    public struct InvalidPrefix: Error, CustomStringConvertible, Equatable {
        public let prefix: String
        public var description: String {
            "Database:TablePrefix '\(prefix)' is not a valid table prefix (letters, digits and '_', not starting with a digit, at most 42 characters)"
        }
    }

    public init(prefix: String) throws(InvalidPrefix) {
        let valid = prefix.unicodeScalars.count <= 42 && prefix.unicodeScalars.enumerated().allSatisfy { index, c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || (index > 0 && ("0"..."9").contains(c))
        }
        guard valid else { throw InvalidPrefix(prefix: prefix) }
        self.prefix = prefix
    }

    public var endpoints: String { "\"\(prefix)xiaozhi_mcp_endpoints\"" }
    public var bindings: String { "\"\(prefix)mcp_service_bindings\"" }
    public var serviceConfigs: String { "\"\(prefix)mcp_service_configs\"" }
    public var tools: String { "\"\(prefix)mcp_tools\"" }

    /// `CREATE TABLE IF NOT EXISTS` for each table, in the original's column names and types. Never alters
    /// a table that exists.
    public var createStatements: [String] {
        [
            """
            CREATE TABLE IF NOT EXISTS \(endpoints) (
                "Id" varchar(36) NOT NULL PRIMARY KEY,
                "Name" varchar(200) NOT NULL,
                "Address" varchar(500) NOT NULL,
                "UserId" varchar(450) NOT NULL,
                "Description" varchar(1000),
                "IsEnabled" boolean NOT NULL DEFAULT false,
                "IsConnected" boolean NOT NULL DEFAULT false,
                "CreatedAt" timestamptz NOT NULL DEFAULT now(),
                "UpdatedAt" timestamptz,
                "LastConnectedAt" timestamptz,
                "LastDisconnectedAt" timestamptz
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS \(serviceConfigs) (
                "Id" varchar(36) NOT NULL PRIMARY KEY,
                "Name" varchar(200) NOT NULL,
                "Endpoint" varchar(500) NOT NULL,
                "UserId" varchar(450) NOT NULL,
                "Description" varchar(1000),
                "IsPublic" boolean NOT NULL DEFAULT false,
                "AuthenticationType" varchar(50),
                "AuthenticationConfig" text,
                "Protocol" varchar(50),
                "CreatedAt" timestamptz NOT NULL DEFAULT now(),
                "UpdatedAt" timestamptz,
                "LastSyncedAt" timestamptz
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS \(bindings) (
                "Id" varchar(36) NOT NULL PRIMARY KEY,
                "XiaozhiMcpEndpointId" varchar(36) NOT NULL,
                "McpServiceConfigId" varchar(36) NOT NULL,
                "UserId" varchar(450) NOT NULL,
                "Description" varchar(1000),
                "IsActive" boolean NOT NULL DEFAULT true,
                "SelectedToolNames" varchar(4000),
                "CreatedAt" timestamptz NOT NULL DEFAULT now(),
                "UpdatedAt" timestamptz
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS \(tools) (
                "Id" varchar(36) NOT NULL PRIMARY KEY,
                "Name" varchar(200) NOT NULL,
                "McpServiceConfigId" varchar(36) NOT NULL,
                "UserId" varchar(450) NOT NULL,
                "Description" text,
                "InputSchema" text,
                "CreatedAt" timestamptz NOT NULL DEFAULT now(),
                "UpdatedAt" timestamptz
            )
            """,
            "CREATE INDEX IF NOT EXISTS \"IX_\(prefix)xiaozhi_mcp_endpoints_IsEnabled\" ON \(endpoints) (\"IsEnabled\")",
            "CREATE INDEX IF NOT EXISTS \"IX_\(prefix)mcp_service_bindings_XiaozhiMcpEndpointId\" ON \(bindings) (\"XiaozhiMcpEndpointId\")",
        ]
    }

    /// Id, name and row version of every enabled endpoint: the scheduler's one query a cycle.
    public var selectEnabled: String {
        "SELECT \"Id\", \"Name\", COALESCE(\"UpdatedAt\", \"CreatedAt\") FROM \(endpoints) WHERE \"IsEnabled\""
    }

    /// Every endpoint with its state columns (for `scheduler status`).
    public var selectAllEndpoints: String {
        "SELECT \"Id\", \"Name\", \"IsEnabled\", \"IsConnected\", \"LastConnectedAt\", \"LastDisconnectedAt\" FROM \(endpoints) ORDER BY \"Name\", \"Id\""
    }

    /// Narrow update when sessions come up: $1 their ids, $2 their times (arrays, one entry per row). A
    /// write that arrives after a later session's (a slow connection) changes nothing.
    public var markConnected: String {
        "UPDATE \(endpoints) AS e SET \"IsConnected\" = true, \"LastConnectedAt\" = m.at"
            + " FROM unnest($1::text[], $2::timestamptz[]) AS m(id, at)"
            + " WHERE e.\"Id\" = m.id AND (e.\"LastConnectedAt\" IS NULL OR e.\"LastConnectedAt\" <= m.at)"
    }

    /// Narrow update when a session goes down: $1 id, $2 time, $3 when that session came up. Only the
    /// latest session's holder writes it: once another session came up later, the endpoint is connected.
    public var markDisconnected: String {
        "UPDATE \(endpoints) SET \"IsConnected\" = false, \"LastDisconnectedAt\" = $2 WHERE \"Id\" = $1"
            + " AND (\"LastConnectedAt\" IS NULL OR \"LastConnectedAt\" <= $3)"
    }

    /// The service configs whose ids are in $1 (a text array).
    public var selectServiceConfigs: String {
        "SELECT \"Id\", \"Name\", \"Endpoint\", \"AuthenticationType\", \"AuthenticationConfig\", \"Protocol\", \"UserId\", \"IsPublic\" FROM \(serviceConfigs) WHERE \"Id\" = ANY($1::text[])"
    }

    /// The tools of the service configs whose ids are in $1 (a text array).
    public var selectTools: String {
        "SELECT \"Id\", \"Name\", \"McpServiceConfigId\", \"Description\", \"InputSchema\", \"CreatedAt\" FROM \(tools) WHERE \"McpServiceConfigId\" = ANY($1::text[]) ORDER BY \"Name\", \"Id\""
    }

    /// A Postgres array literal of text values, for the `ANY($1::text[])` parameters: every element
    /// quoted, backslashes and quotes escaped. Built over UTF-8 bytes (neither byte occurs inside a
    /// multi-byte character): every batched job statement builds one.
    public static func textArrayLiteral(_ values: [String]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

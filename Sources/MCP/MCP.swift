/// The MCP server side of a Xiaozhi session.

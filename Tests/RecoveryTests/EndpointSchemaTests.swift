import Testing
@testable import Recovery

@Suite struct EndpointSchemaTests {
    @Test func namesTheOriginalTablesUnderThePrefix() throws {
        let schema = try EndpointSchema(prefix: "verdure_")
        #expect(schema.endpoints == #""verdure_xiaozhi_mcp_endpoints""#)
        #expect(schema.bindings == #""verdure_mcp_service_bindings""#)
        #expect(schema.serviceConfigs == #""verdure_mcp_service_configs""#)
        #expect(schema.tools == #""verdure_mcp_tools""#)
    }

    @Test(arguments: ["1x_", "x; DROP TABLE y; --", "a\"b", "x-y", String(repeating: "a", count: 43)])
    func refusesAPrefixThatCouldCarrySQL(prefix: String) {
        #expect(throws: EndpointSchema.InvalidPrefix.self) { try EndpointSchema(prefix: prefix) }
    }

    @Test func acceptsTheOriginalsPrefixesIncludingNone() throws {
        #expect(try EndpointSchema(prefix: "").endpoints == #""xiaozhi_mcp_endpoints""#)
        #expect(try EndpointSchema(prefix: "Verdure_").tools == #""Verdure_mcp_tools""#)
    }

    @Test func theErrorNamesTheKey() {
        let error = EndpointSchema.InvalidPrefix(prefix: "x-y")
        #expect(error.description.contains("Database:TablePrefix"))
        #expect(error.description.contains("'x-y'"))
    }

    @Test func arrayLiteralsQuoteEveryElement() {
        #expect(EndpointSchema.textArrayLiteral(["a", "b"]) == #"{"a","b"}"#)
        #expect(EndpointSchema.textArrayLiteral([#"x"y"#, #"back\slash"#, "c,d"]) == #"{"x\"y","back\\slash","c,d"}"#)
        #expect(EndpointSchema.textArrayLiteral([]) == "{}")
        #expect(EndpointSchema.textArrayLiteral(["小智\"客厅", "é\\"]) == #"{"小智\"客厅","é\\"}"#)
    }

    @Test func onlyTheThreeStateColumnsAreWritten() throws {
        let schema = try EndpointSchema(prefix: "verdure_")
        for update in [schema.markConnected, schema.markDisconnected] {
            #expect(update.hasPrefix("UPDATE"))
            let assigned = update.components(separatedBy: " SET ")[1].components(separatedBy: " WHERE ")[0]
            #expect(assigned.contains(#""IsConnected""#))
            #expect(!assigned.contains(#""IsEnabled""#))
            #expect(!assigned.contains(#""UpdatedAt""#))
        }
    }
}

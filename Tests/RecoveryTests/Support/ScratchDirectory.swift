import Foundation
import PostgresClient
import Recovery

/// Runs `body` on a Postgres endpoint directory over migrated tables of its own (prefix `name` and a random
/// tag), and drops them afterwards, whether `body` throws or not.
func withScratchDirectory<T>(
    _ name: String, _ body: (EndpointSchema, PostgresClient, PostgresEndpointDirectory) async throws -> T
) async throws -> T {
    let schema = try EndpointSchema(prefix: "t_\(name)_\(UUID().uuidString.prefix(8).lowercased())_")
    let postgres = try await PostgresClient.connect(url: try requiredEnvironment("DATABASE_URL"))
    let directory = PostgresEndpointDirectory(client: postgres, schema: schema)
    func cleanUp() async {
        _ = try? await postgres.execute("DROP TABLE IF EXISTS \(schema.tools), \(schema.bindings), \(schema.serviceConfigs), \(schema.endpoints)")
        await postgres.close()
    }
    do {
        try await directory.migrate()
        let result = try await body(schema, postgres, directory)
        await cleanUp()
        return result
    } catch {
        await cleanUp()
        throw error
    }
}

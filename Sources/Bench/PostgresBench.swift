import ArgumentParser
import Foundation
import PostgresClient

/// `bench postgres`: fetching many rows of ids through `PostgresClient`, beside `psql -c` running the
/// same query with its output sent to /dev/null.
struct PostgresBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Time to fetch rows of ids through PostgresClient beside psql."
    )

    @Option(help: "Postgres URL (default: $DATABASE_URL).")
    var url: String?

    @Option(help: "Rows to fetch.")
    var rows = 100_000

    @Option(help: "Timed runs of each side (the median is printed).")
    var runs = 5

    @Flag(help: "Skip the psql runs.")
    var skipReference = false

    func run() async throws {
        guard let url = url ?? ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            throw ValidationError("pass --url or set DATABASE_URL")
        }
        let configuration = try PostgresConfiguration(url: url)
        let sql = "SELECT gen_random_uuid()::text AS id FROM generate_series(1, \(rows))"
        var environment = ProcessInfo.processInfo.environment
        let pgHost = configuration.servers.map(\.host).joined(separator: ",")
        let pgPort = configuration.servers.map { String($0.port) }.joined(separator: ",")
        environment["PGHOST"] = pgHost
        environment["PGPORT"] = pgPort
        environment["PGUSER"] = configuration.user
        environment["PGDATABASE"] = configuration.database
        if let password = configuration.password { environment["PGPASSWORD"] = password }
        if let sslMode = configuration.sslMode { environment["PGSSLMODE"] = sslMode }

        // The sides alternate within each run, so a busy machine slows them alike.
        var queryTimes: [Duration] = []
        var decodeTimes: [Duration] = []
        var connectAndQueryTimes: [Duration] = []
        var psqlTimes: [Duration] = []
        var psqlQueryTimes: [Duration] = []
        for _ in 0..<runs {
            let (connectAndQuery, query, decode) = try await measureClient(configuration, sql: sql)
            connectAndQueryTimes.append(connectAndQuery)
            queryTimes.append(query)
            decodeTimes.append(decode)
            guard !skipReference else { continue }
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await runProcess("/usr/bin/env", ["psql", "-X", "-q", "-c", sql], environment: environment, discardOutput: true)
            psqlTimes.append(clock.now - start)
            // psql's own \timing covers sending the query and receiving every row, like `query` above.
            let output = try await runProcess("/usr/bin/env", ["psql", "-X", "-q", "-c", "\\timing on", "-c", sql], environment: environment)
            if let line = output.split(separator: "\n").last(where: { $0.hasPrefix("Time: ") }),
               let milliseconds = Double(line.dropFirst(6).split(separator: " ").first ?? "") {
                psqlQueryTimes.append(.microseconds(Int64(milliseconds * 1000)))
            }
        }
        print("PostgresClient: \(rows) rows of ids, \(runs) runs, server \(configuration.serverDescription)")
        print("  query \"\(sql)\"")
        print(String(format: "  query and decode every row: median %.1f ms", median(queryTimes)))
        print(String(format: "  of which decoding the rows: median %.1f ms", median(decodeTimes)))
        print(String(format: "  connect, query and decode:  median %.1f ms", median(connectAndQueryTimes)))
        guard !skipReference else { return }
        print("PGHOST=\(pgHost) PGPORT=\(pgPort) PGUSER=\(configuration.user) PGDATABASE=\(configuration.database) PGPASSWORD=*** psql -X -q -c '\(sql)' > /dev/null:")
        print(String(format: "  whole process (start, connect, query, print): median %.1f ms", median(psqlTimes)))
        print("same with psql -c '\\timing on' (output read and discarded):")
        print(String(format: "  psql's own query timing: median %.1f ms", median(psqlQueryTimes)))
    }

    /// One run through PostgresClient: connect + query + decode, query + decode, and decode alone.
    private func measureClient(_ configuration: PostgresConfiguration, sql: String) async throws -> (Duration, Duration, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let client = try await PostgresClient.connect(configuration: configuration)
        let connected = clock.now
        let result = try await client.query(sql)
        let received = clock.now
        var bytes = 0
        for row in result {
            bytes += try row.decode(at: 0, as: String.self).utf8.count
        }
        let end = clock.now
        await client.close()
        guard result.count == rows, bytes == rows * 36 else {
            throw ValidationError("expected \(rows) ids of 36 characters, got \(result.count) rows, \(bytes) bytes")
        }
        return (end - start, end - connected, end - received)
    }

    private func median(_ durations: [Duration]) -> Double {
        let sorted = durations.map { $0.seconds * 1000 }.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}

import Foundation
import Recovery
import RecoveryCore

/// The JSON each console page reads, built from what the data source returned. Rows are the CLI's own
/// `--json` objects, so a script and the page see the same fields.
public enum ConsoleViews {
    /// The overview: counts of enabled endpoints by state, capacity, the latest cycle, and the last
    /// hour's results per minute (recovered, failed = retrying + dead).
    public static func overview(report: EndpointStatusReport, cycle: CycleSummary?, outcomes: [MinuteOutcomes], now: Date) -> String {
        let enabled = report.rows.filter(\.enabled)
        func count(_ state: String) -> Int { enabled.filter { $0.state == state }.count }
        var fields: [OperatorField] = [
            OperatorField("takenAt", .time(now)),
            OperatorField("enabled", .int(enabled.count)),
            OperatorField("connected", .int(count(ConnectionStatus.connected.name))),
            OperatorField("connecting", .int(count(ConnectionStatus.connecting.name))),
            OperatorField("missing", .int(count(EndpointStatus.missing))),
            OperatorField("parked", .int(count(EndpointStatus.parked))),
            OperatorField("failed", .int(count(ConnectionStatus.failed.name) + count(ConnectionStatus.disconnected.name))),
            OperatorField("pending", cycle.flatMap { $0.counts["pending"] }.map(OperatorValue.int) ?? .null),
        ]
        if let capacity = report.capacity {
            fields.append(OperatorField("capacity", .object([
                OperatorField("workers", .int(capacity.workers)), OperatorField("slots", .int(capacity.slots)),
                OperatorField("shortfall", .int(capacity.shortfall)),
            ])))
        } else {
            fields.append(OperatorField("capacity", .null))
        }
        if let cycle {
            fields.append(OperatorField("cycle", .object([
                OperatorField("at", .time(cycle.at)), OperatorField("milliseconds", .int(cycle.milliseconds)),
                OperatorField("ageSeconds", .int(max(0, Int(now.timeIntervalSince(cycle.at))))),
            ])))
        } else {
            fields.append(OperatorField("cycle", .null))
        }
        fields.append(OperatorField("perMinute", .array(outcomes.map { minute in
            .object([
                OperatorField("at", .time(minute.start)),
                OperatorField("recovered", .int(minute.counts[.recovered] ?? 0)),
                OperatorField("failed", .int((minute.counts[.retrying] ?? 0) + (minute.counts[.dead] ?? 0))),
            ])
        })))
        return OperatorJSON.render(.object(fields))
    }

    /// One page of the endpoints table, with each row's latest result.
    public static func endpoints(report: EndpointStatusReport, query: EndpointQuery, lastResults: [EndpointID: RecordedResult], now: Date) -> String {
        let (matching, page) = query.apply(to: report.rows)
        let states = Set(report.rows.map(\.state)).sorted()
        let latest = page.map { row -> OperatorValue in
            guard let entry = lastResults[row.id] else { return .null }
            return result(entry)
        }
        return OperatorJSON.render(.object([
            OperatorField("total", .int(report.rows.count)),
            OperatorField("matching", .int(matching)),
            OperatorField("page", .int(query.page)),
            OperatorField("perPage", .int(query.perPage)),
            OperatorField("states", .array(states.map(OperatorValue.string))),
            OperatorField("takenAt", .time(now)),
            OperatorField("rows", .rendered(EndpointStatusReport(rows: page, takenAt: now).json(pretty: false))),
            OperatorField("lastResults", .array(latest)),
        ]))
    }

    /// One endpoint: its status row, owner user, recent results and bound tools.
    public static func endpoint(_ detail: EndpointDetail, now: Date) -> String {
        OperatorJSON.render(.object([
            OperatorField("status", .rendered(String(EndpointStatusReport(rows: [detail.status], takenAt: now).json(pretty: false).dropFirst().dropLast()))),
            OperatorField("userId", .string(detail.userId)),
            OperatorField("updatedAt", .time(detail.updatedAt)),
            OperatorField("results", .array(detail.results.map(result))),
            OperatorField("tools", .array(detail.tools.map { tool in
                .object([OperatorField("service", .string(tool.service)), OperatorField("name", .string(tool.name)),
                         OperatorField("description", .optional(tool.description))])
            })),
        ]))
    }

    static func result(_ entry: RecordedResult) -> OperatorValue {
        .object([
            OperatorField("at", .time(entry.receivedAt)), OperatorField("outcome", .string(entry.result.outcome.rawValue)),
            OperatorField("attempt", .int(entry.result.attempt)), OperatorField("worker", .string(entry.result.instanceId)),
            OperatorField("durationMs", .int(entry.result.durationMs)),
            OperatorField("error", .optional(entry.result.error.map { $0.kind.rawValue + ": " + $0.message })),
        ])
    }

    public static func workers(_ listing: WorkerListing) -> String {
        OperatorJSON.render(.object([
            OperatorField("takenAt", .time(listing.takenAt)), OperatorField("summary", .string(listing.summary)),
            OperatorField("rows", .rendered(listing.json(pretty: false))),
        ]))
    }

    public static func queues(_ report: QueueReport, history: QueueHistory) -> String {
        OperatorJSON.render(.object([
            OperatorField("takenAt", .time(report.takenAt)),
            OperatorField("managementProblem", .optional(report.managementProblem)),
            OperatorField("rows", .rendered(report.json(pretty: false))),
            OperatorField("history", .array(history.samples.map { sample in
                .object([OperatorField("at", .time(sample.at)),
                         OperatorField("depths", .object(sample.depths.sorted { $0.key < $1.key }.map { OperatorField($0.key, .int($0.value)) }))])
            })),
        ]))
    }

    public static func deadLetters(_ letters: [DeadLetter], filter: DeadLetterFilter, now: Date) -> String {
        let shown = letters.filter(filter.matches)
        return OperatorJSON.render(.object([
            OperatorField("takenAt", .time(now)),
            OperatorField("total", .int(letters.count)),
            OperatorField("reasons", .array(Set(letters.map(\.reason)).sorted().map(OperatorValue.string))),
            OperatorField("rows", .rendered(DeadLetterListing(letters: shown, takenAt: now).json(pretty: false))),
        ]))
    }

    public static func retried(_ report: DeadLetterRetryReport) -> String {
        OperatorJSON.render(.object([
            OperatorField("retried", .int(report.retried)), OperatorField("endpoints", .int(report.jobs.count)),
            OperatorField("remaining", .int(report.remaining)), OperatorField("notRemoved", .int(report.notRemoved)),
            OperatorField("skippedWithoutServer", .int(report.skippedWithoutEndpoint)),
            OperatorField("failed", .object(report.failed.sorted { $0.key < $1.key }.map { OperatorField($0.key.rawValue, .string($0.value)) })),
        ]))
    }

    public static func purged(_ report: DeadLetterPurgeReport) -> String {
        OperatorJSON.render(.object([
            OperatorField("purged", .int(report.purged)), OperatorField("remaining", .int(report.remaining)),
            OperatorField("notRemoved", .int(report.notRemoved)),
        ]))
    }
}

import AMQPClient
import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// The pure parts of the operator commands: reading dead letters, selecting them, printing tables and JSON.
@Suite struct OperationsFormattingTests {
    static let job = RecoveryJob(jobId: "job-1", endpointId: "server-1", reason: .retry, attempt: 4, enqueuedAt: Date(timeIntervalSince1970: 1_795_000_000))

    @Test func deadLetterReadsThePoolsHeaders() {
        let letter = DeadLetter(body: Array(Self.job.encoded()), headers: [
            Topology.DeadLetterHeader.reason: "exhausted", Topology.DeadLetterHeader.attempt: .int64(5),
            Topology.DeadLetterHeader.errorKind: "transient", Topology.DeadLetterHeader.error: "connection refused",
            Topology.DeadLetterHeader.diedAt: "2026-11-18T10:00:00.500Z",
        ], messageId: "job-1")
        #expect(letter.job == Self.job)
        #expect(letter.endpointId == "server-1")
        #expect(letter.reason == "exhausted")
        #expect(letter.attempts == 5)
        #expect(letter.errorKind == "transient")
        #expect(letter.lastError == "connection refused")
        #expect(letter.diedAt == Timestamp.parse("2026-11-18T10:00:00.500Z"))
        #expect(letter.isRetryable)
    }

    @Test func deadLetterReadsTheBrokersDeathHeaders() {
        let death: AMQPTable = ["reason": "delivery_limit", "queue": "mcp.recovery.jobs", "time": .timestamp(1_795_000_100), "count": .int64(1)]
        let letter = DeadLetter(body: Array(Self.job.encoded()), headers: [
            "x-first-death-reason": "delivery_limit", "x-first-death-queue": "mcp.recovery.jobs", "x-death": .array([.table(death)]),
        ], messageId: nil)
        #expect(letter.reason == "delivery_limit")
        #expect(letter.attempts == 4)
        #expect(letter.lastError == "dead-lettered by the broker from queue mcp.recovery.jobs")
        #expect(letter.diedAt == Date(timeIntervalSince1970: 1_795_000_100))
    }

    @Test func malformedDeadLetterTakesTheServerFromItsHeaderOrHasNone() {
        let named = DeadLetter(body: Array("{".utf8), headers: [Topology.DeadLetterHeader.endpointId: "server-9"], messageId: nil)
        #expect(named.job == nil && named.endpointId == "server-9" && named.isRetryable)
        let anonymous = DeadLetter(body: Array("{".utf8), headers: [:], messageId: nil)
        #expect(anonymous.endpointId == nil && !anonymous.isRetryable)
        #expect(anonymous.reason == DeadLetter.unknownReason)
        #expect(anonymous.diedAt == nil && anonymous.attempts == nil)
    }

    @Test func selectionNeedsExactlyOneOfAllOrServers() {
        #expect(DeadLetterSelection(all: true, servers: []) == .all)
        #expect(DeadLetterSelection(all: false, servers: ["a", "b"]) == .servers(["a", "b"]))
        #expect(DeadLetterSelection(all: false, servers: []) == nil)
        #expect(DeadLetterSelection(all: true, servers: ["a"]) == nil)
    }

    @Test func selectionMatchesByServerAndOnlyAllTakesAnonymousLetters() {
        let anonymous = DeadLetter(body: [], headers: [:], messageId: nil)
        let named = DeadLetter(body: Array(Self.job.encoded()), headers: [:], messageId: nil)
        #expect(DeadLetterSelection.all.matches(anonymous))
        #expect(!DeadLetterSelection.servers(["server-1"]).matches(anonymous))
        #expect(DeadLetterSelection.servers(["server-1"]).matches(named))
        #expect(!DeadLetterSelection.servers(["server-2"]).matches(named))
    }

    @Test func tablePadsColumnsToTheWidestCellAndNeutralisesControlCharacters() {
        var table = OperatorTable(headers: ["A", "LONGER"])
        table.append(["wide-cell", "x"])
        table.append(["名字", "y\u{1B}[2J"])
        #expect(table.rendered() == "A          LONGER\nwide-cell  x\n名字       y?[2J")
    }

    @Test func jsonEscapesStringsAndKeepsKeyOrderAndNulls() {
        let json = OperatorJSON.render([[("b", .string("quote \" slash \\ line\n\u{01}")), ("a", .null), ("n", .int(3)), ("t", .bool(true))]], pretty: false)
        #expect(json == #"[{"b":"quote \" slash \\ line\n\u0001","a":null,"n":3,"t":true}]"#)
        #expect(OperatorJSON.render([]) == "[]")
        let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(parsed?.first?["b"] as? String == "quote \" slash \\ line\n\u{01}")
    }

    @Test func agesAreCompact() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(OperatorFormat.age(from: now.addingTimeInterval(-42), to: now) == "42s")
        #expect(OperatorFormat.age(from: now.addingTimeInterval(-192), to: now) == "3m12s")
        #expect(OperatorFormat.age(from: now.addingTimeInterval(-(5 * 3600 + 7 * 60)), to: now) == "5h07m")
        #expect(OperatorFormat.age(from: now.addingTimeInterval(-(2 * 86400 + 4 * 3600)), to: now) == "2d04h")
        #expect(OperatorFormat.age(from: now.addingTimeInterval(30), to: now) == "0s")
    }

    @Test func managementRepliesAndPathsAreReadStrictly() {
        let counts = ManagementQueueCounts.decode(Data(#"{"name":"q","messages_ready":3,"messages_unacknowledged":2,"consumers":1,"head_message_timestamp":null}"#.utf8))
        #expect(counts == ManagementQueueCounts(ready: 3, unacknowledged: 2, consumers: 1, headMessageTimestamp: nil))
        #expect(ManagementQueueCounts.decode(Data(#"{"name":"fresh"}"#.utf8)) == ManagementQueueCounts())
        #expect(ManagementQueueCounts.decode(Data("<html>".utf8)) == nil)
        #expect(RabbitManagementAPI.pathSegment("/") == "%2F")
        #expect(RabbitManagementAPI.pathSegment("mcp.recovery.retry.5s") == "mcp.recovery.retry.5s")
        #expect(RabbitManagementAPI.pathSegment("a b/é") == "a%20b%2F%C3%A9")
    }

    @Test func managementURLComesFromTheEnvironmentOrTheAMQPHostWithoutCredentials() throws {
        let amqp = "amqp://pool:amqp-secret@broker.internal:5672/%2fprod"
        let fallback = try RabbitManagementAPI.resolve(amqpURL: amqp, environment: [:])
        #expect(fallback.baseURL == "http://broker.internal:15672")
        #expect(fallback.virtualHost == "/prod")
        let configured = try RabbitManagementAPI.resolve(amqpURL: amqp, environment: ["RABBITMQ_MANAGEMENT_URL": "https://admin:mgmt-secret@mq.example:15671/"])
        #expect(configured.baseURL == "https://mq.example:15671")
        #expect(!configured.baseURL.contains("secret"))
    }
}

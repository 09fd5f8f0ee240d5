import Foundation
import Testing
@testable import RecoveryCore

@Suite struct JobResultTests {
    func failure(_ text: String) -> MessageDecodingError? {
        do {
            _ = try JobResult.decode(Data(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func encodesNullErrorExplicitly() {
        let result = JobResult(jobId: "j", endpointId: "s", outcome: .recovered, instanceId: "w1", attempt: 1, durationMs: 420)
        #expect(String(decoding: result.encoded(), as: UTF8.self)
            == #"{"attempt":1,"durationMs":420,"error":null,"instanceId":"w1","jobId":"j","outcome":"recovered","serverId":"s"}"#)
    }

    @Test func encodesTheErrorObject() {
        let result = JobResult(jobId: "j", endpointId: "s", outcome: .dead, instanceId: "w1", attempt: 2, durationMs: 7,
                               error: JobError(kind: .permanent, message: "WebSocket handshake rejected with HTTP 401"))
        #expect(String(decoding: result.encoded(), as: UTF8.self).contains(#""error":{"kind":"permanent","message":"WebSocket handshake rejected with HTTP 401"}"#))
    }

    @Test func roundTripsEveryOutcome() throws {
        for outcome in JobOutcome.allCases {
            let result = JobResult(jobId: "j", endpointId: "s", outcome: outcome, instanceId: "host:1:abc", attempt: 3, durationMs: 0,
                                   error: outcome == .retrying ? JobError(kind: .transient, message: "connection refused") : nil)
            #expect(try JobResult.decode(result.encoded()) == result)
        }
        #expect(JobOutcome.allCases.map(\.rawValue) == ["recovered", "skipped", "retrying", "dead", "stopped"])
    }

    @Test func absentErrorReadsAsNull() throws {
        let result = try JobResult.decode(Data(#"{"jobId":"j","serverId":"s","outcome":"skipped","instanceId":"w","attempt":1,"durationMs":3}"#.utf8))
        #expect(result.error == nil)
    }

    @Test func unknownOutcomeIsNamed() {
        #expect(failure(#"{"jobId":"j","serverId":"s","outcome":"exploded","instanceId":"w","attempt":1,"durationMs":3,"error":null}"#)?.field == "outcome")
    }

    @Test func badErrorObjectIsNamedWithItsPath() {
        #expect(failure(#"{"jobId":"j","serverId":"s","outcome":"dead","instanceId":"w","attempt":1,"durationMs":3,"error":{"kind":"fatal","message":"x"}}"#)
            == .invalidValue(.result, field: "error.kind", value: "fatal", expected: "one of transient, permanent"))
        #expect(failure(#"{"jobId":"j","serverId":"s","outcome":"dead","instanceId":"w","attempt":1,"durationMs":3,"error":{"kind":"permanent"}}"#)
            == .missingField(.result, field: "error.message"))
        #expect(failure(#"{"jobId":"j","serverId":"s","outcome":"dead","instanceId":"w","attempt":1,"durationMs":3,"error":"boom"}"#)
            == .wrongType(.result, field: "error", expected: "an object or null"))
    }

    @Test func negativeDurationIsRejected() {
        #expect(failure(#"{"jobId":"j","serverId":"s","outcome":"skipped","instanceId":"w","attempt":1,"durationMs":-1,"error":null}"#)?.field == "durationMs")
    }

    @Test func missingInstanceIsNamed() {
        #expect(failure(#"{"jobId":"j","serverId":"s","outcome":"skipped","attempt":1,"durationMs":1,"error":null}"#)
            == .missingField(.result, field: "instanceId"))
    }
}

@Suite struct ControlMessageTests {
    @Test func roundTripsAStop() throws {
        let message = ControlMessage(endpointId: "s", instanceId: "host:42:abc", reason: .orphaned, issuedAt: Date(timeIntervalSince1970: 10))
        #expect(try ControlMessage.decode(message.encoded()) == message)
        #expect(String(decoding: message.encoded(), as: UTF8.self)
            == #"{"command":"stop","instanceId":"host:42:abc","issuedAt":"1970-01-01T00:00:10.000Z","reason":"orphaned","serverId":"s"}"#)
    }

    @Test func unknownCommandIsNamed() {
        #expect(throws: MessageDecodingError.invalidValue(.control, field: "command", value: "explode", expected: "one of stop")) {
            try ControlMessage.decode(Data(#"{"command":"explode","serverId":"s","instanceId":"w","reason":"operator","issuedAt":"2026-01-01T00:00:00Z"}"#.utf8))
        }
    }

    @Test func missingTargetIsNamed() {
        #expect(throws: MessageDecodingError.missingField(.control, field: "instanceId")) {
            try ControlMessage.decode(Data(#"{"command":"stop","serverId":"s","reason":"operator","issuedAt":"2026-01-01T00:00:00Z"}"#.utf8))
        }
    }

    @Test func notJSONIsOneError() {
        #expect(throws: MessageDecodingError.notJSON(.control)) {
            try ControlMessage.decode(Data([0xff, 0xfe]))
        }
    }
}

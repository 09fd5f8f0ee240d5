import Foundation
import Testing
@testable import RecoveryCore

@Suite struct RecoveryJobTests {
    let valid = #"{"jobId":"j-1","serverId":"0b8f4c1e-1111-2222-3333-444455556666","reason":"missing","attempt":1,"enqueuedAt":"2026-11-27T00:01:03.123Z"}"#

    func decode(_ text: String) throws(MessageDecodingError) -> RecoveryJob {
        try RecoveryJob.decode(Data(text.utf8))
    }

    func failure(_ text: String) -> MessageDecodingError? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesAValidJob() throws {
        let job = try decode(valid)
        #expect(job.jobId == "j-1")
        #expect(job.endpointId == "0b8f4c1e-1111-2222-3333-444455556666")
        #expect(job.reason == .missing)
        #expect(job.attempt == 1)
        #expect(Timestamp.format(job.enqueuedAt) == "2026-11-27T00:01:03.123Z")
    }

    @Test func encodesTheContractFieldsWithAnISODate() throws {
        let job = RecoveryJob(jobId: "j-2", endpointId: "s-1", reason: .handoff, attempt: 3,
                              enqueuedAt: Date(timeIntervalSince1970: 1_764_201_663.5))
        let text = String(decoding: job.encoded(), as: UTF8.self)
        #expect(text == #"{"attempt":3,"enqueuedAt":"2025-11-27T00:01:03.500Z","jobId":"j-2","reason":"handoff","serverId":"s-1"}"#)
    }

    @Test func roundTrips() throws {
        for reason in RecoveryReason.allCases {
            let job = RecoveryJob(jobId: "j", endpointId: "s", reason: reason, attempt: 2, enqueuedAt: Date(timeIntervalSince1970: 1000.25))
            #expect(try RecoveryJob.decode(job.encoded()) == job)
        }
    }

    @Test func acceptsEveryReasonOfTheContract() throws {
        let names = RecoveryReason.allCases.map(\.rawValue)
        #expect(names == ["missing", "stale", "handoff", "released", "manual", "retry"])
    }

    @Test func ignoresUnknownFields() throws {
        let job = try decode(#"{"jobId":"j","serverId":"s","reason":"retry","attempt":2,"enqueuedAt":"2026-01-01T00:00:00Z","extra":true}"#)
        #expect(job.reason == .retry)
    }

    @Test func retriedJobHasTheNextAttemptAndReasonRetry() {
        let job = RecoveryJob(jobId: "j1", endpointId: "s", reason: .missing, attempt: 2, enqueuedAt: Date(timeIntervalSince1970: 0))
        let next = job.retried(jobId: "j2", at: Date(timeIntervalSince1970: 5))
        #expect(next == RecoveryJob(jobId: "j2", endpointId: "s", reason: .retry, attempt: 3, enqueuedAt: Date(timeIntervalSince1970: 5)))
    }

    @Test func notJSONIsOneError() {
        #expect(failure("not json {") == .notJSON(.job))
        #expect(failure("") == .notJSON(.job))
    }

    @Test func nonObjectIsOneError() {
        #expect(failure("[1,2]") == .notAnObject(.job))
        #expect(failure("42") == .notAnObject(.job))
    }

    @Test(arguments: ["jobId", "serverId", "reason", "attempt", "enqueuedAt"])
    func missingFieldIsNamed(field: String) throws {
        var object = try #require(JSONSerialization.jsonObject(with: Data(valid.utf8)) as? [String: Any])
        object.removeValue(forKey: field)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(failure(text) == .missingField(.job, field: field))
    }

    @Test func nullFieldCountsAsMissing() {
        #expect(failure(#"{"jobId":null,"serverId":"s","reason":"missing","attempt":1,"enqueuedAt":"2026-01-01T00:00:00Z"}"#)
            == .missingField(.job, field: "jobId"))
    }

    @Test func wrongTypesAreNamed() {
        #expect(failure(#"{"jobId":"j","serverId":"s","reason":"missing","attempt":"1","enqueuedAt":"2026-01-01T00:00:00Z"}"#)
            == .wrongType(.job, field: "attempt", expected: "an integer"))
        #expect(failure(#"{"jobId":"j","serverId":"s","reason":"missing","attempt":true,"enqueuedAt":"2026-01-01T00:00:00Z"}"#)
            == .wrongType(.job, field: "attempt", expected: "an integer"))
        #expect(failure(#"{"jobId":"j","serverId":7,"reason":"missing","attempt":1,"enqueuedAt":"2026-01-01T00:00:00Z"}"#)
            == .wrongType(.job, field: "serverId", expected: "a string"))
        #expect(failure(#"{"jobId":"j","serverId":"s","reason":"missing","attempt":1,"enqueuedAt":1700000000}"#)
            == .wrongType(.job, field: "enqueuedAt", expected: "a string"))
    }

    @Test func fractionalOrHugeAttemptIsRejected() {
        for attempt in ["1.5", "99999999999999999999", "null"] {
            let error = failure(#"{"jobId":"j","serverId":"s","reason":"missing","attempt":\#(attempt),"enqueuedAt":"2026-01-01T00:00:00Z"}"#)
            #expect(error?.field == "attempt", "attempt \(attempt)")
        }
    }

    @Test func unknownReasonIsNamedWithTheAllowedValues() {
        let error = failure(#"{"jobId":"j","serverId":"s","reason":"bored","attempt":1,"enqueuedAt":"2026-01-01T00:00:00Z"}"#)
        #expect(error == .invalidValue(.job, field: "reason", value: "bored",
                                       expected: "one of missing, stale, handoff, released, manual, retry"))
        #expect(error?.description == "malformed recovery job: field 'reason' has value 'bored', expected one of missing, stale, handoff, released, manual, retry")
    }

    @Test func badValuesAreNamed() {
        #expect(failure(#"{"jobId":"j","serverId":"s","reason":"missing","attempt":0,"enqueuedAt":"2026-01-01T00:00:00Z"}"#)?.field == "attempt")
        #expect(failure(#"{"jobId":"j","serverId":"s","reason":"missing","attempt":1,"enqueuedAt":"last tuesday"}"#)?.field == "enqueuedAt")
        #expect(failure(#"{"jobId":"j","serverId":"","reason":"missing","attempt":1,"enqueuedAt":"2026-01-01T00:00:00Z"}"#)?.field == "serverId")
        #expect(failure(#"{"jobId":"j","serverId":"a b","reason":"missing","attempt":1,"enqueuedAt":"2026-01-01T00:00:00Z"}"#)?.field == "serverId")
    }

    @Test func longValuesAreTruncatedInErrors() throws {
        let long = String(repeating: "x", count: 500)
        let error = try #require(failure(#"{"jobId":"j","serverId":"s","reason":"\#(long)","attempt":1,"enqueuedAt":"2026-01-01T00:00:00Z"}"#))
        #expect(error.description.count < 250)
    }
}

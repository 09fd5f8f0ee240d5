import Testing
import RecoveryCore

@Suite("Which lease-renewal failures are logged")
struct RenewalFailureLogTests {
    /// Whether each of `count` failed ticks in a row is logged.
    func failures(_ count: Int, on log: inout RenewalFailureLog) -> [Bool] {
        (0..<count).map { _ in log.failed() }
    }

    @Test("the first failure of a run is logged, then one per full round of slots")
    func oncePerRound() {
        var log = RenewalFailureLog(every: 4)
        let logged = failures(10, on: &log)
        #expect(logged == [true, false, false, false, true, false, false, false, true, false])
    }

    @Test("a success ends the run: the next failure is logged at once")
    func successResets() {
        var log = RenewalFailureLog(every: 3)
        let before = failures(2, on: &log)
        log.succeeded()
        let after = failures(4, on: &log)
        #expect(before == [true, false])
        #expect(after == [true, false, false, true])
    }

    @Test("one slot, or a nonsensical count, logs every failure")
    func singleSlot() {
        for every in [1, 0, -3] {
            var log = RenewalFailureLog(every: every)
            let logged = failures(5, on: &log)
            #expect(log.every == 1)
            #expect(logged == [true, true, true, true, true])
        }
    }
}

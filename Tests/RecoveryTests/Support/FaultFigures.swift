import Foundation

/// What one fault scenario measured from the simulator's side, printed as one line in a fixed format so
/// that `scripts/reliability.sh` can grep the lines of a run and runs of different sizes compare:
/// `fault <name> endpoints=N workers=W evictions_during=a evictions_after=b never_back=c all_back_seconds=d alive=yes`
/// followed by the scenario's own figures as `key=value`.
struct FaultFigures {
    var name: String
    var endpoints: Int
    var workers: Int
    /// Sessions evicted by a duplicate while the fault was in force.
    var evictionsDuring = 0
    /// Sessions evicted by a duplicate in the window after the fault ended.
    var evictionsAfter = 0
    /// Endpoints expected back that had no session at the end.
    var neverBack = 0
    /// Seconds from the scenario's reference moment until every expected endpoint was connected; nil
    /// when that never happened.
    var allBackSeconds: Double?
    /// Whether every process of the cluster was still running at the end.
    var alive = true
    /// The scenario's own figures, in the order they print.
    var extra: [(key: String, value: String)] = []

    init(name: String, endpoints: Int, workers: Int) {
        self.name = name
        self.endpoints = endpoints
        self.workers = workers
    }

    var line: String {
        let back = allBackSeconds.map { String(format: "%.1f", $0) } ?? "never"
        var fields = [
            "fault \(name)", "endpoints=\(endpoints)", "workers=\(workers)", "evictions_during=\(evictionsDuring)",
            "evictions_after=\(evictionsAfter)", "never_back=\(neverBack)", "all_back_seconds=\(back)", "alive=\(alive ? "yes" : "no")",
        ]
        fields += extra.map { "\($0.key)=\($0.value)" }
        return fields.joined(separator: " ")
    }

    /// Prints the line (the figures are reported, never asserted as timings).
    func report() {
        print(line)
    }
}

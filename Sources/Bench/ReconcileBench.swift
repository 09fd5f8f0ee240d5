import ArgumentParser
import Foundation
import RecoveryCore

/// Times one pure reconcile planning pass over N enabled endpoints that are all live (nothing missing),
/// plus, separately, decoding the N stored state values the scheduler would read from Redis.
struct ReconcileBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Time the reconcile planner with 1,000 / 10,000 / 100,000 enabled endpoints, all live.")

    @Option(name: .long, parsing: .upToNextOption, help: "Enabled endpoint counts to plan.")
    var endpoints: [Int] = [1_000, 10_000, 100_000]

    @Option(name: .long, help: "Timed passes per count (the first, a warm-up, is not counted).")
    var runs: Int = 7

    mutating func run() async throws {
        let now = Date()
        let planner = ReconcilePlanner(policy: ReconcilePolicy())
        print("reconcile planner, all endpoints live, \(runs) timed passes each")
        for count in endpoints {
            var enabled: [EnabledEndpoint] = []
            var stored: [(EndpointID, String)] = []
            enabled.reserveCapacity(count)
            stored.reserveCapacity(count)
            for index in 0..<count {
                let id = EndpointID(UUID().uuidString.lowercased())
                enabled.append(EnabledEndpoint(id: id, name: "endpoint \(index)", updatedAt: now.addingTimeInterval(-86_400)))
                let state = ConnectionState(
                    endpointId: id, instanceId: "worker-\(index % 16)", status: .connected,
                    lastConnectedTime: now.addingTimeInterval(-600), lastHeartbeat: now.addingTimeInterval(-5),
                    endpointName: "endpoint \(index)", webSocketEndpoint: "wss://api.xiaozhi.me/mcp/?token=t\(index)", fence: index + 1)
                stored.append((id, state.encoded()))
            }

            let clock = ContinuousClock()
            var observations: [EndpointID: LiveObservation] = [:]
            let decodeTime = clock.measure {
                observations.reserveCapacity(count)
                for (id, value) in stored {
                    observations[id] = LiveObservation(state: StateReading(stored: value), leaseHeld: true, indexed: true)
                }
            }
            let input = ReconcileInput(enabled: enabled, observations: observations, now: now)

            var samples: [Duration] = []
            var cpuSamples: [Double] = []
            var plan: ReconcilePlan? = planner.plan(input)
            for _ in 0..<max(1, runs) {
                plan = nil  // free the previous pass outside the measurement
                let cpuBefore = threadCPUMilliseconds()
                samples.append(clock.measure { plan = planner.plan(input) })
                cpuSamples.append(threadCPUMilliseconds() - cpuBefore)
            }
            precondition(plan?.jobs.isEmpty == true && plan?.report.live.count == count, "every endpoint should be live")
            samples.sort()
            cpuSamples.sort()
            let median = samples[samples.count / 2]
            print(String(
                format: "endpoints=%7d  plan wall min %8.2f ms  median %8.2f ms  max %8.2f ms  cpu median %8.2f ms  | decode %d states %8.1f ms",
                count, milliseconds(samples.first!), milliseconds(median), milliseconds(samples.last!),
                cpuSamples[cpuSamples.count / 2], count, milliseconds(decodeTime)))

            // The scheduler's usual cycle: nothing read key by key, the held-sessions index vouching for all.
            let held = HeldSessions(members: Set(enabled.map(\.id)), lapsed: [])
            let vouched = ReconcileInput(enabled: enabled, observations: [:], held: held, now: now)
            var heldSamples: [Double] = []
            for _ in 0..<max(1, runs) {
                plan = nil
                let cpuBefore = threadCPUMilliseconds()
                plan = planner.plan(vouched)
                heldSamples.append(threadCPUMilliseconds() - cpuBefore)
            }
            precondition(plan?.jobs.isEmpty == true && plan?.report.live.count == count, "every endpoint should be live")
            heldSamples.sort()
            print(String(format: "                   with the held-sessions index, nothing read: cpu median %8.2f ms (min %.2f)", heldSamples[heldSamples.count / 2], heldSamples[0]))
        }
    }

    /// CPU time of the calling thread (less sensitive than wall time to other processes on the machine).
    private func threadCPUMilliseconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) * 1000 + Double(spec.tv_nsec) / 1e6
    }

    private func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

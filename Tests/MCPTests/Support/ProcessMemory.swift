import Foundation
import Synchronization

/// This process's resident memory, read from /proc (Linux).
enum ProcessMemory {
    /// Resident set size in bytes (`/proc/self/statm`, second field, in pages).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

/// Samples the resident set size on a thread of its own every millisecond, keeping the highest:
/// a burst of allocation shows even when it is freed before the work returns.
final class PeakResidentSampler: Sendable {
    private let peak = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)
    private let stopped = DispatchSemaphore(value: 0)

    static func start() -> PeakResidentSampler {
        let sampler = PeakResidentSampler()
        sampler.peak.store(ProcessMemory.residentBytes(), ordering: .relaxed)
        Thread.detachNewThread { sampler.run() }
        return sampler
    }

    private func run() {
        while running.load(ordering: .relaxed) {
            let now = ProcessMemory.residentBytes()
            if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
            usleep(1000)
        }
        stopped.signal()
    }

    /// Stops sampling; the highest resident size seen.
    func stop() -> Int {
        running.store(false, ordering: .relaxed)
        stopped.wait()
        return max(peak.load(ordering: .relaxed), ProcessMemory.residentBytes())
    }
}

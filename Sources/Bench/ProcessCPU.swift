import Glibc

/// CPU time of this process, all threads: less sensitive than wall time to other load on the machine.
enum ProcessCPU {
    static func milliseconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) * 1000 + Double(spec.tv_nsec) / 1e6
    }
}

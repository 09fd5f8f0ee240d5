#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`).
public enum DescriptorLimit {
    /// Raises the soft limit towards `wanted`, as far as the hard limit allows, and returns the soft limit
    /// in force afterwards (nil when it cannot be read).
    public static func raise(toAtLeast wanted: Int) -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let target = min(rlim_t(max(0, wanted)), limit.rlim_max)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Finds out why a TCP connect fails (refused, unreachable, timed out), because librabbitmq reports every
/// such failure as a bare "socket error". Used only after the library's own connect has failed.
enum ConnectDiagnosis {
    static func reason(host: String, port: Int, timeoutMilliseconds: Int32 = 2000) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(host, String(port), &hints, &list)
        guard lookup == 0, let first = list else {
            return "cannot resolve host '\(host)': \(String(cString: gai_strerror(lookup)))"
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { lastError = errno; continue }
            defer { close(fd) }
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else { lastError = errno; continue }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pfd, 1, timeoutMilliseconds) == 0 { lastError = ETIMEDOUT; continue }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return nil }
            lastError = soError
        }
        return lastError == 0 ? nil : String(cString: strerror(lastError)).lowercased()
    }
}

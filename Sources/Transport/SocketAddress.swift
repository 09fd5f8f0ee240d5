import Glibc

/// One resolved socket address (IPv4 or IPv6) ready for `connect` or `bind`.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage: sockaddr_storage
    var length: socklen_t

    public var family: Int32 { Int32(storage.ss_family) }

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    init?(pointer: UnsafePointer<sockaddr>, length: socklen_t) {
        guard length <= MemoryLayout<sockaddr_storage>.size else { return nil }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length)))
        }
        self.init(storage: storage, length: length)
    }

    /// The numeric host ("127.0.0.1", "::1").
    public var host: String {
        var copy = storage
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
            }
        }
        guard rc == 0 else { return "?" }
        return string(fromCBuffer: buffer)
    }

    /// The port in host byte order.
    public var port: Int {
        var copy = storage
        let isV6 = Int32(storage.ss_family) == AF_INET6
        return withUnsafePointer(to: &copy) { raw -> Int in
            if isV6 {
                return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// Whether `host` is an IPv4 or IPv6 literal (brackets allowed around IPv6).
    public static func isLiteral(_ host: String) -> Bool {
        let bare = stripBrackets(host)
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }

    static func stripBrackets(_ host: String) -> String {
        if host.hasPrefix("["), host.hasSuffix("]") { return String(host.dropFirst().dropLast()) }
        return host
    }

    /// Resolves `host` (name or literal) with getaddrinfo; blocks for names, so call it off the event loop.
    public static func resolve(host: String, port: Int, passive: Bool = false) throws(TransportError) -> [SocketAddress] {
        guard (0...65535).contains(port) else { throw .invalidAddress("port \(port) out of range") }
        let bare = stripBrackets(host)
        guard !bare.isEmpty || passive else { throw .invalidAddress("empty host") }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0)
        if isLiteral(bare) { hints.ai_flags = AI_NUMERICHOST | (passive ? AI_PASSIVE : 0) }
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(bare.isEmpty ? nil : bare, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw .resolutionFailed(host: host, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let addr = info.pointee.ai_addr, let address = SocketAddress(pointer: addr, length: info.pointee.ai_addrlen) {
                addresses.append(address)
            }
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .resolutionFailed(host: host, reason: "no addresses") }
        return addresses
    }
}

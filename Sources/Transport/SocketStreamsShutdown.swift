import Glibc

extension SocketStreams {
    /// Shuts the socket down both ways without closing it: a read or write blocked on another thread
    /// returns at once. The descriptor stays open (no other socket can take its number) until `close()`.
    public func shutdown() {
        guard let fd = input.channel?.fd else { return }
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }
}

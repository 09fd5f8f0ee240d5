import Dispatch
import Glibc

/// A listening TCP socket on an event loop; each accepted socket is handed over non-blocking.
final class Listener: EventHandler, @unchecked Sendable {
    let loop: EventLoop
    let fd: Int32
    /// The bound address (with the real port when bound to port 0).
    let address: SocketAddress
    private let onAccept: (Int32, SocketAddress) -> Void
    private var closed = false
    private var paused = false

    /// Binds and listens at once; accepting starts on `loop`. `onAccept` runs on `loop`'s thread.
    init(host: String, port: Int, backlog: Int32 = 1024, on loop: EventLoop,
         onAccept: @escaping (Int32, SocketAddress) -> Void) throws(TransportError) {
        let candidates = try SocketAddress.resolve(host: host, port: port, passive: true)
        let chosen = candidates[0]
        let socketFD = try Socket.makeNonBlocking(family: chosen.family)
        Socket.setReuseAddress(socketFD)
        let bound = chosen.withSockaddr { bind(socketFD, $0, $1) }
        guard bound == 0 else {
            let code = errno
            Glibc.close(socketFD)
            throw .system(call: "bind \(chosen)", errno: code)
        }
        guard listen(socketFD, backlog) == 0 else {
            let code = errno
            Glibc.close(socketFD)
            throw .system(call: "listen \(chosen)", errno: code)
        }
        self.loop = loop
        self.fd = socketFD
        self.address = Socket.localAddress(socketFD) ?? chosen
        self.onAccept = onAccept
        loop.execute { [self] in
            guard !closed else { return }
            do { try loop.register(fd, handler: self, readable: true, writable: false) } catch {
                closed = true
                Glibc.close(fd)
            }
        }
    }

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        while !closed && !paused {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let accepted = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(fd, $0, &length)
                }
            }
            if accepted >= 0 {
                _ = fcntl(accepted, F_SETFL, fcntl(accepted, F_GETFL) | O_NONBLOCK)
                _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
                onAccept(accepted, SocketAddress(storage: storage, length: length))
                continue
            }
            let code = errno
            if code == EINTR || code == ECONNABORTED { continue }
            if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                // Out of descriptors: stop accepting for a moment rather than spin.
                paused = true
                loop.setInterest(fd, readable: false, writable: false)
                loop.schedule(after: .milliseconds(100)) { [weak self] in
                    guard let self, !self.closed else { return }
                    self.paused = false
                    self.loop.setInterest(self.fd, readable: true, writable: false)
                }
            }
            return
        }
    }

    /// Stops listening (from any thread). Off the loop it waits (up to a second, in case the loop is gone)
    /// until the socket is closed, so that no connection is accepted once it returns.
    func close() {
        if loop.inLoop {
            closeNow()
            return
        }
        let closedNow = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            closeNow()
            closedNow.signal()
        }
        _ = closedNow.wait(timeout: .now() + 1)
    }

    private func closeNow() {
        guard !closed else { return }
        closed = true
        loop.deregister(fd)
        Glibc.close(fd)
    }
}

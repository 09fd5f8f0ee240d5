import COpenSSL
import Glibc

/// TLS by OpenSSL over a connected non-blocking socket; the handshake, reads and writes report
/// WANT_READ / WANT_WRITE as `wouldBlock` so the event loop can drive them by readiness.
final class TLSChannel: ByteChannel, @unchecked Sendable {
    private let ssl: OpaquePointer
    private let context: TLSContext
    /// A client's cache key, the `SSL`'s application data while it lives.
    private var serverKey: Unmanaged<TLSServerKey>?
    private(set) var handshakeDone = false

    enum HandshakeStep: Equatable { case done, wantRead, wantWrite, failed(TransportError) }

    /// A client channel: SNI and host-name verification use `serverName`.
    init(clientFD fd: Int32, context: TLSContext, serverName: String, port: Int) throws(TransportError) {
        guard let ssl = SSL_new(context.context) else {
            throw .tlsFailure(host: serverName, reason: "SSL_new: \(drainErrors())")
        }
        // Set up before the descriptor is adopted: on failure the caller still owns (and closes) it.
        do {
            try Self.prepareClient(ssl, serverName: serverName, verifiesPeer: context.verifiesPeer)
        } catch {
            SSL_free(ssl)
            throw error
        }
        self.ssl = ssl
        self.context = context
        // Filed per context too: a session verified under one context's rules is never offered to another.
        let server = "\(UInt(bitPattern: ObjectIdentifier(context).hashValue))/\(serverName):\(port)"
        let key = Unmanaged.passRetained(TLSServerKey(server))
        serverKey = key
        super.init(fd: fd, peerHost: serverName, peerPort: port)
        SSL_set_ex_data(ssl, 0, key.toOpaque())
        TLSSessionCache.shared.offer(to: ssl, for: server)
        SSL_set_fd(ssl, fd)
        SSL_set_connect_state(ssl)
    }

    /// Whether the handshake resumed an earlier session (no certificate exchanged).
    var resumedSession: Bool { SSL_session_reused(ssl) == 1 }

    /// SNI and the name or address the certificate must match. Each OpenSSL call's result is checked: a
    /// connection whose expected identity could not be set would verify the chain but not whom it names.
    static func prepareClient(_ ssl: OpaquePointer, serverName: String, verifiesPeer: Bool) throws(TransportError) {
        let bare = SocketAddress.stripBrackets(serverName)
        if SocketAddress.isLiteral(bare) {
            // SNI carries names only; an address is matched against the certificate's IP entries.
            if verifiesPeer {
                try requireSetup(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), bare), host: serverName, step: "set the expected IP address for certificate verification")
            }
        } else {
            try requireSetup(Int32(xz_SSL_set_tlsext_host_name(ssl, bare)), host: serverName, step: "set the server name (SNI)")
            if verifiesPeer {
                try requireSetup(SSL_set1_host(ssl, bare), host: serverName, step: "set the expected host name for certificate verification")
            }
        }
    }

    /// Turns an OpenSSL setup call's result (1 on success) into an error naming the host and the step.
    static func requireSetup(_ result: Int32, host: String, step: String) throws(TransportError) {
        guard result != 1 else { return }
        throw .tlsFailure(host: host, reason: "cannot \(step): \(drainErrors())")
    }

    /// A server channel over an accepted socket.
    init(serverFD fd: Int32, context: TLSContext, peerHost: String, peerPort: Int) throws(TransportError) {
        guard let ssl = SSL_new(context.context) else {
            throw .tlsFailure(host: peerHost, reason: "SSL_new: \(drainErrors())")
        }
        self.ssl = ssl
        self.context = context
        super.init(fd: fd, peerHost: peerHost, peerPort: peerPort)
        SSL_set_fd(ssl, fd)
        SSL_set_accept_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        serverKey?.release()
    }

    /// One step of the handshake.
    func handshake() -> HandshakeStep {
        ERR_clear_error()
        errno = 0
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            handshakeDone = true
            return .done
        }
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            let verify = SSL_get_verify_result(ssl)
            if verify != Int(X509_V_OK), context.verifiesPeer {
                ERR_clear_error()
                return .failed(.tlsFailure(host: peerHost, reason: String(cString: X509_verify_cert_error_string(verify))))
            }
            if code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN {
                let saved = errno
                ERR_clear_error()
                if saved == 0 || saved == ECONNRESET || saved == EPIPE {
                    return .failed(.reset(host: peerHost, port: peerPort, during: .tls))
                }
                return .failed(.system(call: "TLS handshake", errno: saved))
            }
            let reason = drainErrors()
            if reason.contains("unexpected eof") { return .failed(.reset(host: peerHost, port: peerPort, during: .tls)) }
            return .failed(.tlsFailure(host: peerHost, reason: reason))
        }
    }

    override var hasBufferedBytes: Bool { SSL_pending(ssl) > 0 }

    override func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
        ERR_clear_error()
        errno = 0
        var done = 0
        let rc = SSL_read_ex(ssl, buffer, count, &done)
        if rc == 1 { return .transferred(done) }
        return failure(rc)
    }

    override func write(_ buffer: UnsafeRawPointer, _ count: Int) -> IOResult {
        guard count > 0 else { return .transferred(0) }
        ERR_clear_error()
        errno = 0
        var done = 0
        let rc = SSL_write_ex(ssl, buffer, count, &done)
        if rc == 1 { return .transferred(done) }
        return failure(rc)
    }

    private func failure(_ rc: Int32) -> IOResult {
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wouldBlock(needsWritable: false)
        case SSL_ERROR_WANT_WRITE: return .wouldBlock(needsWritable: true)
        case SSL_ERROR_ZERO_RETURN: return .endOfStream
        case SSL_ERROR_SYSCALL:
            let saved = errno
            ERR_clear_error()
            if saved == 0 { return .endOfStream }
            return classify(saved, writing: false)
        default:
            return .failed(.tlsFailure(host: peerHost, reason: drainErrors()))
        }
    }

    /// Sends close_notify (best effort, never waits) and closes the socket.
    override func close() {
        guard !isClosed else { return }
        if handshakeDone {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        super.close()
    }
}

import COpenSSL
import Glibc
import Synchronization

/// A shared OpenSSL `SSL_CTX`. Loading the system store is costly, so client contexts are cached per
/// configuration and shared by every connection; TLS 1.2 is the minimum.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    let isServer: Bool
    let verifiesPeer: Bool

    private static let clientContexts = Mutex<[TLSConfiguration: TLSContext]>([:])

    private init(context: OpaquePointer, isServer: Bool, verifiesPeer: Bool) {
        self.context = context
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(context) }

    /// The shared client context for `configuration`, made on first use.
    public static func client(_ configuration: TLSConfiguration = .default) throws(TransportError) -> TLSContext {
        let result = clientContexts.withLock { cache -> Result<TLSContext, TransportError> in
            if let existing = cache[configuration] { return .success(existing) }
            do {
                let made = try makeClient(configuration)
                cache[configuration] = made
                return .success(made)
            } catch let error as TransportError { return .failure(error) } catch { return .failure(.tlsFailure(host: "-", reason: "\(error)")) }
        }
        return try result.get()
    }

    private static func makeClient(_ configuration: TLSConfiguration) throws(TransportError) -> TLSContext {
        ignoreSIGPIPE()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw .tlsFailure(host: "-", reason: "SSL_CTX_new: \(drainErrors())")
        }
        let made = TLSContext(context: ctx, isServer: false, verifiesPeer: configuration.verification == .full)
        try made.configureCommon()
        if configuration.useSystemStore, SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw .tlsFailure(host: "-", reason: "cannot load the system CA store: \(drainErrors())")
        }
        if let file = configuration.extraCAFile, SSL_CTX_load_verify_locations(ctx, file, nil) != 1 {
            throw .tlsFailure(host: "-", reason: "cannot load CA file \(file): \(drainErrors())")
        }
        SSL_CTX_set_verify(ctx, configuration.verification == .full ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        _ = xz_SSL_CTX_keep_client_sessions(ctx)
        SSL_CTX_sess_set_new_cb(ctx, tlsNewClientSession)
        return made
    }

    /// A server context presenting the PEM certificate chain and private key.
    public static func server(certificateChainFile: String, privateKeyFile: String) throws(TransportError) -> TLSContext {
        ignoreSIGPIPE()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw .tlsFailure(host: "-", reason: "SSL_CTX_new: \(drainErrors())")
        }
        let made = TLSContext(context: ctx, isServer: true, verifiesPeer: false)
        try made.configureCommon()
        guard SSL_CTX_use_certificate_chain_file(ctx, certificateChainFile) == 1 else {
            throw .tlsFailure(host: "-", reason: "cannot load certificate \(certificateChainFile): \(drainErrors())")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, privateKeyFile, SSL_FILETYPE_PEM) == 1,
              SSL_CTX_check_private_key(ctx) == 1 else {
            throw .tlsFailure(host: "-", reason: "cannot load private key \(privateKeyFile): \(drainErrors())")
        }
        return made
    }

    private func configureCommon() throws(TransportError) {
        guard xz_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw .tlsFailure(host: "-", reason: "cannot require TLS 1.2: \(drainErrors())")
        }
        xz_SSL_CTX_ignore_unexpected_eof(context)
        _ = xz_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS))
    }
}

/// Pops OpenSSL's error queue for this thread into one line.
func drainErrors() -> String {
    var parts: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        if let reason = xz_ERR_reason(code) { parts.append(String(cString: reason)) } else {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(string(fromCBuffer: buffer))
        }
    }
    return parts.isEmpty ? "unknown error" : parts.joined(separator: "; ")
}

private let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()

/// Writes to a closed socket must return EPIPE, not kill the process.
func ignoreSIGPIPE() { _ = sigpipeIgnored }

/// What a TLS client trusts. Verification of the peer's chain and host name is on unless
/// `verification` is `.disabledForTestsOnly`.
public struct TLSConfiguration: Sendable, Hashable {
    /// How the server certificate is checked.
    public enum Verification: Sendable, Hashable {
        /// Chain to a trusted CA and a host name match (the default).
        case full
        /// No check at all: only for tests against throwaway certificates.
        case disabledForTestsOnly
    }

    /// A PEM file of extra CA certificates trusted besides the system store.
    public var extraCAFile: String?
    /// Whether to use the system CA store (`SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured).
    public var useSystemStore: Bool
    public var verification: Verification

    public init(extraCAFile: String? = nil, useSystemStore: Bool = true, verification: Verification = .full) {
        self.extraCAFile = extraCAFile
        self.useSystemStore = useSystemStore
        self.verification = verification
    }

    /// The system store with full verification.
    public static let `default` = TLSConfiguration()
}

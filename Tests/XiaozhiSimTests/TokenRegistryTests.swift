import Testing
@testable import XiaozhiSim

@Suite("Token registry")
struct TokenRegistryTests {
    @Test("a token outside the allowed set is refused")
    func unknownToken() {
        var registry = TokenRegistry(allowedTokens: ["good"])
        #expect(registry.admit(token: "bad", session: 1) == .unknownToken)
        #expect(registry.connectedTokens.isEmpty)
    }

    @Test("a missing or empty token is refused even when any token is allowed")
    func missingToken() {
        var registry = TokenRegistry(allowedTokens: nil)
        #expect(registry.admit(token: nil, session: 1) == .unknownToken)
        #expect(registry.admit(token: "", session: 2) == .unknownToken)
    }

    @Test("without an allowed set any non-empty token is admitted")
    func anyToken() {
        var registry = TokenRegistry(allowedTokens: nil)
        #expect(registry.admit(token: "whatever", session: 1) == .accepted(evicting: nil))
        #expect(registry.holder(of: "whatever") == 1)
    }

    @Test("a second connection with the same token evicts the first and counts an eviction")
    func eviction() {
        var registry = TokenRegistry(allowedTokens: ["t"])
        #expect(registry.admit(token: "t", session: 1) == .accepted(evicting: nil))
        #expect(registry.admit(token: "t", session: 2) == .accepted(evicting: 1))
        #expect(registry.holder(of: "t") == 2)
        #expect(registry.evictions == 1)
        #expect(registry.token(of: 1) == nil)
    }

    @Test("the evicted session closing later does not free the token its successor holds")
    func evictedCloseKeepsSuccessor() {
        var registry = TokenRegistry(allowedTokens: nil)
        _ = registry.admit(token: "t", session: 1)
        _ = registry.admit(token: "t", session: 2)
        registry.remove(session: 1)
        #expect(registry.holder(of: "t") == 2)
        registry.remove(session: 2)
        #expect(registry.holder(of: "t") == nil)
        #expect(registry.connectedTokens.isEmpty)
    }

    @Test("different tokens are held independently")
    func independentTokens() {
        var registry = TokenRegistry(allowedTokens: nil)
        _ = registry.admit(token: "a", session: 1)
        _ = registry.admit(token: "b", session: 2)
        #expect(registry.connectedTokens == ["a", "b"])
        #expect(registry.evictions == 0)
    }

    @Test("a fingerprint is 12 hex digits of the token's SHA-1 and does not contain the token")
    func fingerprint() {
        #expect(fingerprintOf("abc") == "a9993e364706")
        #expect(!fingerprintOf("secret-token").contains("secret"))
    }

    @Test("the token file skips blank lines and comments and trims whitespace")
    func tokenFile() {
        #expect(TokenFile.parse("# tokens\n  one \n\ntwo\n# three\n") == ["one", "two"])
    }
}

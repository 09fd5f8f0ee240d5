import ClientSupport
import Testing
@testable import PostgresClient

/// A connection string in libpq's keyword form where a URL is expected is refused without its secrets
/// in the error.
@Suite struct ConninfoFormRedactionTests {
    @Test func aKeywordFormStringIsRefusedWithoutItsPassword() {
        let text = "host=db.internal user=pool password='pg s3cret' sslpassword=keypass dbname=verdure"
        do {
            _ = try PostgresConfiguration(url: text)
            Issue.record("a keyword-form string is not a URL")
        } catch {
            #expect(error.kind == .invalidURL)
            #expect(!"\(error)".contains("s3cret"))
            #expect(!"\(error)".contains("keypass"))
            #expect(error.server == "host=db.internal user=pool password=*** sslpassword=*** dbname=verdure")
        }
    }

    @Test func theClientsRedactionHidesKeywordSecretsAndUserinfo() {
        #expect(Redaction.conninfo("host=db password=s3cret") == "host=db password=***")
        #expect(Redaction.urlPassword("host=db password=s3cret user=a") == "host=db password=*** user=a")
        #expect(Redaction.urlPassword("pool:pw@db/x") == "***@db/x")
        #expect(Redaction.urlPassword("postgres://pool:pw@db/x") == "postgres://pool:***@db/x")
    }
}

import ClientSupport
import Testing
@testable import RecoveryCore

/// libpq's keyword/value form of a connection string, given where a URL was expected: its secrets are
/// hidden before it reaches an error message.
@Suite struct ConninfoRedactionTests {
    @Test func passwordsAreHiddenAndTheRestIsKept() {
        #expect(Redaction.conninfo("host=db user=app password=s3cret dbname=x") == "host=db user=app password=*** dbname=x")
        #expect(Redaction.conninfo("host=db sslpassword=keypass sslmode=verify-full") == "host=db sslpassword=*** sslmode=verify-full")
        #expect(Redaction.conninfo("PASSWORD=s3cret host=db") == "PASSWORD=*** host=db")
    }

    @Test func libpqQuotingAndSpacingDoNotLetASecretThrough() {
        #expect(Redaction.conninfo("host=db password = 's3 cr\\'et' user=app") == "host=db password = *** user=app")
        #expect(Redaction.conninfo("password=s3\\ cret host=db") == "password=*** host=db")
        #expect(Redaction.conninfo("host=db password='never closed user=app") == "host=db password=***")
        #expect(Redaction.conninfo("host=db password") == "host=db password ***")
        #expect(Redaction.conninfo("host=db password s3cret") == "host=db password ***")
    }

    @Test func otherValuesStayEvenWhenTheyMentionAPassword() {
        #expect(Redaction.conninfo("options='-c search_path=a' host=db") == "options='-c search_path=a' host=db")
        #expect(Redaction.conninfo("host=db") == "host=db")
    }

    @Test func aKeywordFormDatabaseURLFailsValidationWithoutItsPassword() throws {
        let value = "host=db.internal port=5432 user=pool password=pg-s3cret dbname=verdure"
        do {
            _ = try ConfigurationLoader.load(fileContents: nil, environment: ["DATABASE_URL": value], overrides: [])
            Issue.record("a keyword-form DATABASE_URL is not accepted")
        } catch {
            #expect(error.key == "DATABASE_URL")
            #expect(!error.description.contains("pg-s3cret"))
            #expect(error.description.contains("password=***"))
            #expect(error.description.contains("host=db.internal"))
        }
    }

    @Test func aCombiningMarkAfterTheAtSignDoesNotHideTheUserinfo() {
        #expect(!Redaction.mistypedConnectionSetting("postgres:/pool:pw-s3cret@\u{301}db/x").contains("pw-s3cret"))
    }

    @Test func aMistypedURLStillHidesItsWholeUserinfo() {
        #expect(Redaction.mistypedConnectionSetting("postgres:/pool:pw@db/x") == "***@db/x")
        #expect(Redaction.mistypedConnectionSetting("postgres://pool:pw@db:99999/x") == "postgres://***@db:99999/x")
        #expect(Redaction.mistypedConnectionSetting("postgres://pool:p/w@db/x?password=q") == "postgres://***@db/x?password=***")
    }
}

import Testing

@testable import ChatBackend

@Suite("Password policy")
struct PasswordPolicyTests {
    let policy = PasswordPolicy()

    @Test("a decent password passes")
    func decent() {
        #expect(policy.check("Pr0be-pass-2020", username: "alice", email: "alice@example.com").isEmpty)
    }

    @Test("short, common and numeric passwords are refused with Django's messages")
    func weak() {
        #expect(policy.check("123", username: "a", email: "a@b.c").password == [
            "This password is too short. It must contain at least 8 characters.",
            "This password is entirely numeric.",
        ])
        #expect(policy.check("password", username: "a", email: "a@b.c").password == ["This password is too common."])
    }

    @Test("a password too close to the username or e-mail is refused")
    func similar() {
        let violations = policy.check("alicewonder1", username: "alicewonder", email: "alicewonder@example.com")
        #expect(violations.similarity.contains("The password is too similar to the username."))
        #expect(violations.similarity.contains("The password is too similar to the email address."))
    }

    @Test("e-mail addresses")
    func emails() {
        #expect(EmailAddress.isValid("alice@example.com"))
        #expect(!EmailAddress.isValid("not-an-email"))
        #expect(!EmailAddress.isValid("a@b"))
        #expect(!EmailAddress.isValid("a b@example.com"))
        #expect(!EmailAddress.isValid("a@@example.com"))
    }
}

import ChatBackend
import Foundation
import Logging
import Testing

@Suite("Accounts")
struct AccountTests {
    let password: JSONValue = "Pr0be-pass-2020"

    @Test("registration answers a token and refuses bad input with DRF's messages")
    func registration() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            #expect(alice.token.count == 40 && alice.token.allSatisfy(\.isHexDigit))
            #expect(alice.username == "alice")

            let route = "/api/rest-auth/registration/"
            let duplicate = try await server.post(route, json: ["email": "ALICE@example.com", "password1": password, "password2": password])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.json == ["email": ["A user is already registered with this e-mail address."]])

            let mismatch = try await server.post(route, json: ["email": "x1@example.com", "password1": password, "password2": "Pr0be-pass-2020x"])
            #expect(mismatch.json == ["non_field_errors": ["The two password fields didn't match."]])

            let weak = try await server.post(route, json: ["email": "x2@example.com", "password1": "123", "password2": "123"])
            #expect(weak.status == .badRequest)
            #expect(weak.json["password1"] != nil)

            let missing = try await server.post(route, json: ["password1": password, "password2": password])
            #expect(missing.json == ["email": ["This field is required."]])

            let invalid = try await server.post(route, json: ["email": "not-an-email", "password1": password, "password2": password])
            #expect(invalid.json == ["email": ["Enter a valid email address."]])

            let similar = try await server.post(
                route, json: ["email": "wonderland@example.com", "password1": "wonderland1", "password2": "wonderland1"]
            )
            #expect(similar.json["non_field_errors"] != nil)

            // A second alice at another domain gets a username of her own.
            let other = try await server.post(route, json: ["email": "alice@example.org", "password1": password, "password2": password])
            let otherToken = try #require(other.json["key"]?.stringValue)
            #expect(try await server.get("/api/user/currentuser/", token: otherToken).json["username"] == "alice2")
        }
    }

    @Test("login: one token per device; logout revokes only the token used")
    func loginAndLogout() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let login = "/api/rest-auth/login/"
            let phone = try #require(try await server.post(login, json: ["email": "alice@example.com", "password": password]).json["key"]?.stringValue)
            let laptop = try #require(try await server.post(login, json: ["email": "Alice@Example.com", "password": password]).json["key"]?.stringValue)
            #expect(Set([alice.token, phone, laptop]).count == 3)

            #expect(try await server.post(login, json: ["email": "alice@example.com", "password": "wrong"]).json
                == ["non_field_errors": ["Unable to log in with provided credentials."]])
            #expect(try await server.post(login, json: ["email": "nobody@example.com", "password": password]).status == .badRequest)
            #expect(try await server.post(login, json: [:]).json == ["password": ["This field is required."]])
            #expect(try await server.post(login, json: ["username": "alice@example.com", "password": password]).json
                == ["non_field_errors": ["Must include \"email\" and \"password\"."]])
            #expect(try await server.get(login).status == .methodNotAllowed)
            #expect(try await server.get("/api/rest-auth/logout/", token: phone).status == .methodNotAllowed)

            let logout = try await server.post("/api/rest-auth/logout/", token: phone)
            #expect(logout.json == ["detail": "Successfully logged out."])
            #expect(try await server.get("/api/user/currentuser/", token: phone).json == ["detail": "Invalid token."])
            #expect(try await server.get("/api/user/currentuser/", token: laptop).status == .ok)
            #expect(try await server.post("/api/rest-auth/logout/").status == .ok)
        }
    }

    @Test("password change: validated, old password refused afterwards, caller stays signed in, other devices signed out")
    func passwordChange() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let other = try #require(
                try await server.post("/api/rest-auth/login/", json: ["email": "alice@example.com", "password": password]).json["key"]?.stringValue
            )
            let route = "/api/rest-auth/password/change/"
            let new: JSONValue = "Pr0be-pass-2021"
            #expect(try await server.post(route, json: ["new_password1": new, "new_password2": new]).status == .unauthorized)
            #expect(try await server.post(route, token: alice.token, json: ["new_password1": new, "new_password2": "x"]).json["new_password2"] != nil)
            #expect(try await server.post(route, token: alice.token, json: [:]).json
                == ["new_password1": ["This field is required."], "new_password2": ["This field is required."]])

            let changed = try await server.post(route, token: alice.token, json: ["new_password1": new, "new_password2": new])
            #expect(changed.json == ["detail": "New password has been saved."])
            #expect(try await server.get("/api/user/currentuser/", token: alice.token).status == .ok)
            #expect(try await server.get("/api/user/currentuser/", token: other).status == .unauthorized)
            #expect(try await server.post("/api/rest-auth/login/", json: ["email": "alice@example.com", "password": password]).status == .badRequest)
            #expect(try await server.post("/api/rest-auth/login/", json: ["email": "alice@example.com", "password": new]).status == .ok)
        }
    }

    @Test("e-mail confirmation by link and by key, through the outbox; each key works once")
    func emailConfirmation() async throws {
        try await TestServer.run { server in
            _ = try await server.register("carol")
            let path = "/api/rest-auth/registration/account-confirm-email/\(try server.confirmationKey(for: "carol@example.com"))/"
            #expect(try await server.get(path).json == ["confirmed": true])
            // Single-use, as the original: the second visit of the link confirms nothing.
            #expect(try await server.get(path).json == ["confirmed": false])
            #expect(try await server.get("/api/rest-auth/registration/account-confirm-email/bogus-key/").json == ["confirmed": false])

            _ = try await server.register("dave")
            #expect(try await server.post("/api/rest-auth/registration/resend-email/", json: ["email": "dave@example.com"]).json == ["detail": "ok"])
            #expect(server.outbox.mails.filter { $0.to == "dave@example.com" }.count == 2)
            #expect(try await server.post("/api/rest-auth/registration/resend-email/", json: ["email": "nobody@example.com"]).status == .ok)
            let key = try server.confirmationKey(for: "dave@example.com")
            #expect(try await server.post("/api/rest-auth/registration/verify-email/", json: ["key": .string(key)]).json == ["detail": "ok"])
            #expect(try await server.post("/api/rest-auth/registration/verify-email/", json: ["key": .string(key)]).status == .notFound)
            #expect(try await server.post("/api/rest-auth/registration/verify-email/", json: ["key": "bogus"]).status == .notFound)
        }
    }

    @Test("with PUBLIC_BASE_URL set, links and e-mails use it, whatever Host the client sent")
    func publicBaseURL() async throws {
        try await TestServer.run(configure: { $0.publicBaseURL = "https://chat.example.com" }) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            #expect(server.outbox.mails.last?.body.contains("https://chat.example.com/api/rest-auth/registration/account-confirm-email/") == true)
            let chat = try await server.befriend(alice, bob)
            let detail = try await server.get("/api/chat/\(chat)/", token: alice.token).json
            #expect(detail["participants"]?.arrayValue?.allSatisfy { $0.stringValue?.hasPrefix("https://chat.example.com/api/user/") == true } == true)
        }
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["PUBLIC_BASE_URL": "chat.example.com/x"]) }
        #expect(try AppConfiguration.fromEnvironment(["PUBLIC_BASE_URL": "https://chat.example.com/"]).publicBaseURL == "https://chat.example.com")
    }

    @Test("with mandatory verification, log-in waits for the confirmation")
    func mandatoryVerification() async throws {
        try await TestServer.run(configure: { $0.accounts.requireEmailVerification = true }) { server in
            let registered = try await server.post(
                "/api/rest-auth/registration/", json: ["email": "eve@example.com", "password1": password, "password2": password]
            )
            #expect(registered.status == .created)
            #expect(registered.json["key"] == nil)
            let login: JSONValue = ["email": "eve@example.com", "password": password]
            #expect(try await server.post("/api/rest-auth/login/", json: login).json == ["non_field_errors": ["E-mail is not verified."]])
            let key = try server.confirmationKey(for: "eve@example.com")
            #expect(try await server.post("/api/rest-auth/registration/verify-email/", json: ["key": .string(key)]).status == .ok)
            #expect(try await server.post("/api/rest-auth/login/", json: login).status == .ok)
        }
    }

    @Test("a leaked database holds neither passwords nor usable tokens")
    func secretsAtRest() async throws {
        let location = try await TestServer.freshDatabase()
        let alice = try await TestServer.run(database: location) { try await $0.register("alice") }
        let (tokens, hashes) = try await openDatabase(location, logger: Logger(label: "test")).whileRunning { database in
            (
                try await database.query("SELECT key_hash FROM auth_tokens").map { try $0.string("key_hash") },
                try await database.query("SELECT password_hash FROM users").map { try $0.string("password_hash") }
            )
        }
        #expect(tokens.count == 1)
        #expect(!tokens.contains(alice.token))
        #expect(hashes.allSatisfy { $0.hasPrefix("$2b$") && !$0.contains("Pr0be") })
    }
}

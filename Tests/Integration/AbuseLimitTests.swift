@testable import ChatBackend
import AsyncHTTPClient
import ChatSimulator
import Foundation
import Hummingbird
import Testing

/// Every abuse an anonymous or signed-in client can try has a limit, answered in the contract's
/// shape, and the limit touches only the abuser.
@Suite("Abuse limits")
struct AbuseLimitTests {
    @Test("log-ins are throttled per address and per account, with 429 and Retry-After; other addresses carry on")
    func loginThrottle() async throws {
        try await TestServer.run(configure: { configuration in
            configuration.rateLimits.loginPerAddress = RateLimit(perSecond: 0.01, burst: 3)
            configuration.rateLimits.loginPerAccount = RateLimit(perSecond: 0.01, burst: 5)
            configuration.rateLimits.trustForwardedFor = true
        }) { server in
            let alice = try await server.register("alice")
            func login(from address: String, password: String = "wrong-password-1") async throws -> Reply {
                try await server.request(
                    .post, "/api/rest-auth/login/", json: ["email": .string(alice.email), "password": .string(password)],
                    headers: [.init("X-Forwarded-For")!: "203.0.113.9, \(address)"]
                )
            }
            for _ in 0..<3 { #expect(try await login(from: "198.51.100.1").status == .badRequest) }
            let throttled = try await login(from: "198.51.100.1")
            #expect(throttled.status == .tooManyRequests)
            #expect(Int(throttled.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(throttled.json["detail"]?.stringValue?.hasPrefix("Request was throttled.") == true)

            // Another address still has its allowance, but the account has only two guesses left.
            #expect(try await login(from: "198.51.100.2").status == .badRequest)
            #expect(try await login(from: "198.51.100.3").status == .badRequest)
            #expect(try await login(from: "198.51.100.4", password: "Pr0be-pass-2020").status == .tooManyRequests)
            // Another account is not affected by alice's.
            let bob = try await server.register("bob")
            let bobLogin = try await server.request(
                .post, "/api/rest-auth/login/", json: ["email": .string(bob.email), "password": "Pr0be-pass-2020"],
                headers: [.init("X-Forwarded-For")!: "198.51.100.5"]
            )
            #expect(bobLogin.status == .ok)
        }
    }

    @Test("registrations are throttled per address")
    func registrationThrottle() async throws {
        try await TestServer.run(configure: { $0.rateLimits.registrationPerAddress = RateLimit(perSecond: 0.01, burst: 2) }) { server in
            _ = try await server.register("first")
            _ = try await server.register("second")
            let third = try await server.post(
                "/api/rest-auth/registration/",
                json: ["email": "third@example.com", "password1": "Pr0be-pass-2020", "password2": "Pr0be-pass-2020"]
            )
            #expect(third.status == .tooManyRequests)
            #expect(third.headers[.retryAfter] != nil)
        }
    }

    @Test("password changes are throttled per account, and confirmation e-mails per address written to")
    func accountThrottles() async throws {
        try await TestServer.run(configure: { configuration in
            configuration.rateLimits.passwordChangePerAccount = RateLimit(perSecond: 0.01, burst: 1)
            configuration.rateLimits.emailResend = RateLimit(perSecond: 0.01, burst: 2)
        }) { server in
            let alice = try await server.register("alice")
            let change: JSONValue = ["new_password1": "An0ther-pass-2020", "new_password2": "An0ther-pass-2020"]
            #expect(try await server.post("/api/rest-auth/password/change/", token: alice.token, json: change).status == .ok)
            #expect(try await server.post("/api/rest-auth/password/change/", token: alice.token, json: change).status == .tooManyRequests)

            let resend: JSONValue = ["email": .string(alice.email)]
            for _ in 0..<2 { #expect(try await server.post("/api/rest-auth/registration/resend-email/", json: resend).status == .ok) }
            #expect(try await server.post("/api/rest-auth/registration/resend-email/", json: resend).status == .tooManyRequests)
        }
    }

    @Test("a user over the message allowance gets rate_limited with retry_after, and nothing of it is stored")
    func messageThrottle() async throws {
        try await TestServer.run(configure: { $0.rateLimits.messagesPerUser = RateLimit(perSecond: 0.01, burst: 3) }) { server in
            let (_, _, _, aliceSocket, bobSocket) = try await server.friendsOnSockets()
            for index in 0..<4 { aliceSocket.send(["command": "new_message", "message": .string("m\(index)")]) }
            let frames = try await aliceSocket.frames(count: 4)
            let limited = try #require(frames.first { $0["command"]?.stringValue == "error" })
            #expect(limited["error"]?.stringValue == "rate_limited")
            #expect((limited["retry_after"]?.doubleValue ?? 0) > 0)
            #expect(frames.filter { $0["command"]?.stringValue == "new_message" }.count == 3)
            let history = try await bobSocket.fetch()
            guard case .array(let messages)? = history["messages"] else { throw TestFailure("no history: \(history)") }
            #expect(messages.count == 3)
        }
    }

    @Test("a body that does not say it is JSON is refused with 415 before anything else happens")
    func contentTypeRequired() async throws {
        try await TestServer.run { server in
            let body = ["email": "a@example.com", "password": "whatever-1"] as JSONValue
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x"] {
                let reply = try await server.request(.post, "/api/rest-auth/login/", json: body, headers: [.contentType: contentType])
                #expect(reply.status == .unsupportedMediaType, "\(contentType)")
                #expect(reply.json["detail"]?.stringValue?.hasPrefix("Unsupported media type") == true)
            }
            let charset = try await server.request(.post, "/api/rest-auth/login/", json: body, headers: [.contentType: "application/json; charset=utf-8"])
            #expect(charset.status == .badRequest, "JSON with a charset is JSON")
        }
    }

    @Test("NUL and other control characters are refused with a clear error, newline and tab kept")
    func controlCharacters() async throws {
        try await TestServer.run { server in
            let (alice, _, _, aliceSocket, _) = try await server.friendsOnSockets()
            let group = try await server.post("/api/chat/mychats/groups/", token: alice.token, json: ["name": "a\u{0}b"])
            #expect(group.status == .badRequest)
            #expect(group.json["name"] == [.string(TextRules.controlCharacterMessage)])

            aliceSocket.send(["command": "new_message", "message": "a\u{0}b"])
            aliceSocket.send(["command": "new_message", "message": "bell\u{7}"])
            aliceSocket.send(["command": "new_message", "message": "line one\n\tline two"])
            let frames = try await aliceSocket.frames(count: 3)
            #expect(frames[0]["command"]?.stringValue == "error")
            #expect(frames[1]["command"]?.stringValue == "error")
            #expect(frames[2]["message"]?["content"]?.stringValue == "line one\n\tline two")
        }
    }

    @Test("look-alike spellings of a taken e-mail cannot register again")
    func lookAlikeEmails() async throws {
        try await TestServer.run { server in
            _ = try await server.register("dotless")
            for lookAlike in ["\u{FF44}otless@example.com", "dotle\u{17F}s@example.com", "DOTLESS@EXAMPLE.COM", "dot\u{131}ess@example.com"] {
                let reply = try await server.post(
                    "/api/rest-auth/registration/",
                    json: ["email": .string(lookAlike), "password1": "Pr0be-pass-2020", "password2": "Pr0be-pass-2020"]
                )
                #expect(reply.status == .badRequest, "\(lookAlike) registered: \(reply.body)")
            }
            // The full-width spelling signs in to the one account.
            let login = try await server.post("/api/rest-auth/login/", json: ["email": "\u{FF44}otless@example.com", "password": "Pr0be-pass-2020"])
            #expect(login.status == .ok)
        }
    }

    @Test("a flood of log-ins is refused at once beyond the hashing bound; nothing fails and others are served")
    func loginFlood() async throws {
        try await TestServer.run(configure: { $0.accounts.bcryptCost = 10 }) { server in
            let bob = try await server.register("bob")
            // A client of its own, allowed as many connections as there are log-ins (the shared one pools 8).
            let http = HTTPClient(configuration: .init(connectionPool: .init(idleTimeout: .seconds(5), concurrentHTTP1ConnectionsPerHostSoftLimit: 100)))
            defer { _ = http.shutdown() }
            let client = ChatClient(baseURL: "http://127.0.0.1:\(server.port)", http: http)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<(Limits.pendingPasswordHashes * 3) {
                    group.addTask { try await client.login(email: "nobody\(index)@example.com", password: "wrong-password-1").status }
                }
                let current = try await server.get("/api/user/currentuser/", token: bob.token)
                #expect(current.status == .ok, "another user is served during the flood")
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 400 || $0 == 503 }, "\(statuses)")
            #expect(statuses.contains(503), "beyond \(Limits.pendingPasswordHashes) at once, some are refused")
        }
    }
}

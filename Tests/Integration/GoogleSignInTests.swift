import AsyncHTTPClient
import ChatBackend
import ChatSimulator
import Foundation
import NIOCore
import Testing

@Suite("Google sign-in")
struct GoogleSignInTests {
    static let clientID = "chat-test.apps.googleusercontent.com"
    static let keys = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/google").standardized

    /// A server that trusts the fake issuer, and the issuer.
    static func run(
        configure: @escaping @Sendable (inout GoogleSettings) -> Void = { _ in },
        _ body: @escaping @Sendable (TestServer, FakeGoogleIssuer) async throws -> Void
    ) async throws {
        let issuer = try await FakeGoogleIssuer.start(keysDirectory: keys)
        do {
            try await TestServer.run(configure: { configuration in
                configuration.google.clientIDs = ["another-app.apps.googleusercontent.com", clientID]
                configuration.google.jwksURL = issuer.jwksURL
                configuration.google.tokenInfoURL = issuer.tokenInfoURL
                configure(&configuration.google)
            }) { server in
                try await body(server, issuer)
            }
        } catch {
            await issuer.stop()
            throw error
        }
        await issuer.stop()
    }

    static func signIn(_ server: TestServer, _ body: JSONValue) async throws -> Reply {
        try await server.post("/api/rest-auth/google/", json: body)
    }

    @Test("the first sign-in creates a verified account; later ones reach it even after the e-mail changed")
    func firstAndLaterSignIns() async throws {
        try await Self.run { server, issuer in
            var account = FakeGoogleAccount(subject: "10769150350006150715113082367", email: "grace@example.com")
            let first = try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: account, audience: Self.clientID))])
            #expect(first.status == .ok)
            let token = try #require(first.json["key"]?.stringValue)
            let me = try await server.get("/api/user/currentuser/", token: token).json
            #expect(me["email"] == "grace@example.com" && me["username"] == "grace")

            account.email = "grace.hopper@example.com"
            let later = try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: account, audience: Self.clientID))])
            let laterToken = try #require(later.json["key"]?.stringValue)
            #expect(laterToken != token)
            #expect(try await server.get("/api/user/currentuser/", token: laterToken).json["uuid"] == me["uuid"])

            let byAccessToken = try await Self.signIn(server, ["access_token": .string(issuer.accessToken(for: account, audience: Self.clientID))])
            let accessKey = try #require(byAccessToken.json["key"]?.stringValue)
            #expect(try await server.get("/api/user/currentuser/", token: accessKey).json["uuid"] == me["uuid"])
        }
    }

    @Test("a password account is linked only when Google vouches for its e-mail")
    func linking() async throws {
        try await Self.run { server, issuer in
            let alice = try await server.register("alice")
            let unverified = FakeGoogleAccount(subject: "111", email: "alice@example.com", emailVerified: false)
            let refused = try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: unverified, audience: Self.clientID))])
            #expect(refused.status == .badRequest)
            #expect(refused.json == ["non_field_errors": ["Google has not verified this account's e-mail address."]])

            let verified = FakeGoogleAccount(subject: "222", email: "ALICE@example.com")
            let linked = try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: verified, audience: Self.clientID))])
            let key = try #require(linked.json["key"]?.stringValue)
            #expect(try await server.get("/api/user/currentuser/", token: key).json["uuid"] == .string(alice.uuid))
            // The password still works, and the unverified subject never got the account.
            #expect(try await server.post("/api/rest-auth/login/", json: ["email": "alice@example.com", "password": "Pr0be-pass-2020"]).status == .ok)
            let again = try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: unverified, audience: Self.clientID))])
            #expect(again.status == .badRequest)
        }
    }

    enum BadToken: String, CaseIterable, Sendable {
        case badSignature, unknownKey, algNone, hs256KeyConfusion, wrongIssuer, wrongAudience, expired, issuedInFuture,
            notBefore, unverifiedEmail, malformed, notJWT, empty, missing
    }

    @Test("every bad token is a 400 with a clear message, never a 500", arguments: BadToken.allCases)
    func rejections(bad: BadToken) async throws {
        try await Self.run { server, issuer in
            let account = FakeGoogleAccount(subject: "333", email: "mallory@example.com")
            let now = Date().timeIntervalSince1970
            var claims = FakeIDTokenClaims(audience: Self.clientID, now: now)
            var signing = FakeSigning.published
            var who = account
            var body: JSONValue?
            let expected: String
            switch bad {
            case .badSignature: signing = .corruptedSignature; expected = "The Google token's signature is invalid."
            case .unknownKey: signing = .unpublishedKey; expected = "The Google token is signed with an unknown key."
            case .algNone: signing = .none; expected = "The Google token must be signed with RS256, not none."
            case .hs256KeyConfusion: signing = .hmacWithPublicKey; expected = "The Google token must be signed with RS256, not HS256."
            case .wrongIssuer: claims.issuer = "https://evil.example.com"; expected = "The Google token was not issued by Google."
            case .wrongAudience: claims.audience = "someone-else.apps.googleusercontent.com"; expected = "The Google token was issued for another application."
            case .expired: claims.expires = now - 3600; expected = "The Google token has expired."
            case .issuedInFuture: claims.issuedAt = now + 3600; expected = "The Google token is not valid yet."
            case .notBefore: claims.notBefore = now + 3600; expected = "The Google token is not valid yet."
            case .unverifiedEmail: who.emailVerified = false; expected = "Google has not verified this account's e-mail address."
            case .malformed:
                // Three segments, but the header is not base64 JSON.
                body = ["id_token": "!!!.e30.c2ln"]
                expected = "The Google token is malformed."
            case .notJWT: body = ["id_token": "hello"]; expected = "The Google token is malformed."
            case .empty: body = ["id_token": ""]; expected = ""
            case .missing: body = [:]; expected = "Send the Google \"id_token\" (or an \"access_token\")."
            }
            let token = try issuer.signer.idToken(for: who, claims: claims, signing: signing)
            let reply = try await Self.signIn(server, body ?? ["id_token": .string(token)])
            #expect(reply.status == .badRequest, "\(reply.body)")
            if bad == .empty {
                #expect(reply.json == ["id_token": ["This field may not be blank."]])
            } else {
                #expect(reply.json == ["non_field_errors": [.string(expected)]])
            }
        }
    }

    @Test("access tokens: the audience and Google's answer decide")
    func accessTokens() async throws {
        try await Self.run { server, issuer in
            let account = FakeGoogleAccount(subject: "444", email: "ada@example.com")
            let foreign = issuer.accessToken(for: account, audience: "someone-else.apps.googleusercontent.com")
            let foreignReply = try await Self.signIn(server, ["access_token": .string(foreign)])
            #expect(foreignReply.json == ["non_field_errors": ["The Google token was issued for another application."]])
            let unknownReply = try await Self.signIn(server, ["access_token": "ya29.unknown"])
            #expect(unknownReply.json == ["non_field_errors": ["Google does not recognise this access token."]])
            let good = issuer.accessToken(for: account, audience: Self.clientID)
            #expect(try await Self.signIn(server, ["access_token": .string(good)]).status == .ok)
        }
    }

    @Test("Google down: 503; back: sign-in works again")
    func outage() async throws {
        try await Self.run { server, issuer in
            let account = FakeGoogleAccount(subject: "555", email: "linus@example.com")
            issuer.setAvailable(false)
            let down = try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: account, audience: Self.clientID))])
            #expect(down.status == .serviceUnavailable)
            #expect(down.json["detail"] != nil)
            let downAccess = try await Self.signIn(server, ["access_token": .string(issuer.accessToken(for: account, audience: Self.clientID))])
            #expect(downAccess.status == .serviceUnavailable)
            issuer.setAvailable(true)
            #expect(try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: account, audience: Self.clientID))]).status == .ok)
        }
    }

    @Test("Google unreachable: 503 promptly")
    func unreachable() async throws {
        try await Self.run(configure: { $0.jwksURL = "http://127.0.0.1:9/certs" }) { server, issuer in
            let account = FakeGoogleAccount(subject: "666", email: "ken@example.com")
            let reply = try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: account, audience: Self.clientID))])
            #expect(reply.status == .serviceUnavailable)
        }
    }

    @Test("keys are cached; tokens naming unknown keys refetch at most once per interval")
    func keyCaching() async throws {
        try await Self.run(configure: { $0.minimumRefetchSeconds = 3600 }) { server, issuer in
            let account = FakeGoogleAccount(subject: "777", email: "barbara@example.com")
            for _ in 0..<3 {
                #expect(try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: account, audience: Self.clientID))]).status == .ok)
            }
            #expect(issuer.jwksRequests == 1)
            let forged = try issuer.signer.idToken(
                for: account, claims: FakeIDTokenClaims(audience: Self.clientID, now: Date().timeIntervalSince1970), signing: .unpublishedKey
            )
            for _ in 0..<3 { #expect(try await Self.signIn(server, ["id_token": .string(forged)]).status == .badRequest) }
            #expect(issuer.jwksRequests == 1)
        }
    }

    @Test("a freshly rotated key: 503 while Google is down, accepted within seconds once it is back")
    func rotatedKeyDuringOutage() async throws {
        try await Self.run(configure: { $0.minimumRefetchSeconds = 2; $0.failedFetchRetrySeconds = 0.5 }) { server, issuer in
            let account = FakeGoogleAccount(subject: "4242", email: "rotated@example.com")
            #expect(try await Self.signIn(server, ["id_token": .string(try issuer.idToken(for: account, audience: Self.clientID))]).status == .ok)
            let rotated = try issuer.signer.idToken(
                for: account, claims: FakeIDTokenClaims(audience: Self.clientID, now: Date().timeIntervalSince1970), signing: .unpublishedKey
            )
            try await Task.sleep(for: .seconds(2))  // past the refetch interval of the first fetch
            issuer.setAvailable(false)
            for _ in 0..<3 {
                let down = try await Self.signIn(server, ["id_token": .string(rotated)])
                #expect(down.status == .serviceUnavailable, "an unknown key while Google is down may be Google's: \(down.body)")
            }
            issuer.rotateKeys()
            issuer.setAvailable(true)
            // Back: the key is fetched on the next try after the short failure interval, not 30 s later.
            var accepted = false
            for _ in 0..<20 where !accepted {
                accepted = try await Self.signIn(server, ["id_token": .string(rotated)]).status == .ok
                if !accepted { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(accepted, "the rotated key is accepted within 5 s of Google's return")
        }
    }

    @Test("a hosted-domain restriction admits only that domain")
    func hostedDomain() async throws {
        try await Self.run(configure: { $0.hostedDomain = "example.org" }) { server, issuer in
            let outsider = FakeGoogleAccount(subject: "888", email: "out@example.com")
            let insider = FakeGoogleAccount(subject: "999", email: "in@example.org", hostedDomain: "example.org")
            let outside = try issuer.idToken(for: outsider, audience: Self.clientID)
            let inside = try issuer.idToken(for: insider, audience: Self.clientID)
            #expect(try await Self.signIn(server, ["id_token": .string(outside)]).status == .badRequest)
            #expect(try await Self.signIn(server, ["id_token": .string(inside)]).status == .ok)
        }
    }

    @Test("without client IDs, Google sign-in is off")
    func disabled() async throws {
        try await TestServer.run { server in
            let reply = try await Self.signIn(server, ["id_token": "x.y.z"])
            #expect(reply.json == ["non_field_errors": ["Google sign-in is not enabled on this server."]])
        }
    }

    @Test("the web app's button: config.json names the first client ID and the consent page, which sends the browser back with a token of its nonce that signs in")
    func webAppConsentFlow() async throws {
        try await Self.run(configure: { [authorizationURL = "http://127.0.0.1:9/o/oauth2/v2/auth"] in $0.authorizationURL = authorizationURL }) { server, issuer in
            let config = try await server.get("/app/config.json")
            #expect(config.status == .ok && config.headers[.contentSecurityPolicy] != nil)
            #expect(config.json == ["google": ["client_id": "another-app.apps.googleusercontent.com", "authorization_url": "http://127.0.0.1:9/o/oauth2/v2/auth"]])

            let http = HTTPClient(configuration: .init(redirectConfiguration: .disallow))
            do {
                let clientID = "another-app.apps.googleusercontent.com"
                let state = UUID().uuidString, nonce = UUID().uuidString
                let email = "grace.\(UInt32.random(in: 0...UInt32.max))@example.com"
                let request = [
                    "client_id": clientID, "redirect_uri": "http://127.0.0.1:\(server.port)/app/", "response_type": "id_token",
                    "scope": "openid email profile", "state": state, "nonce": nonce,
                ]
                // The page asks for the account, keeping the request in its form.
                let page = try await Self.consent(http, issuer, request.merging(["login_hint": "<b>\"x"]) { $1 })
                #expect(page.status == 200)
                #expect(page.body.contains(#"name="nonce" value="\#(nonce)""#) && page.body.contains(#"id="fake-google-email""#))
                #expect(page.body.contains("&lt;b&gt;&quot;x") && !page.body.contains("<b>"), "the hint is text, not HTML")

                // Answered, it sends the browser back with the token in the fragment.
                let answered = try await Self.consent(http, issuer, request.merging(["email": email]) { $1 })
                #expect(answered.status == 302)
                let location = try #require(answered.location)
                #expect(location.hasPrefix("http://127.0.0.1:\(server.port)/app/#"), "\(location)")
                let (token, returnedState) = try Self.answer(in: location)
                #expect(returnedState == state)
                let claims = try Self.claims(of: token)
                #expect(claims["nonce"] == .string(nonce) && claims["aud"] == .string(clientID) && claims["email"] == .string(email))

                let signedIn = try await Self.signIn(server, ["id_token": .string(token)])
                let key = try #require(signedIn.json["key"]?.stringValue, "\(signedIn.body)")
                #expect(try await server.get("/api/user/currentuser/", token: key).json["email"] == .string(email))
                let again = try await Self.consent(http, issuer, request.merging(["email": email]) { $1 })
                let tokenAgain = try Self.answer(in: try #require(again.location)).token
                #expect(try Self.claims(of: tokenAgain)["sub"] == claims["sub"], "the same e-mail is the same Google account")

                // What Google refuses, so does the page: each a 400 naming the field.
                let refused: [(String, String?, String)] = [
                    ("response_type", "code", "response_type"), ("nonce", nil, "nonce"), ("redirect_uri", "javascript:alert(1)", "redirect_uri"),
                    ("client_id", nil, "client_id"),
                ]
                for (field, value, named) in refused {
                    var bad = request
                    bad[field] = value
                    let answer = try await Self.consent(http, issuer, bad.merging(["email": email]) { $1 })
                    #expect(answer.status == 400 && answer.body.contains(named), "\(field)=\(value ?? "(none)"): \(answer.status) \(answer.body)")
                }
                let notAnEmail = try await Self.consent(http, issuer, request.merging(["email": "grace"]) { $1 })
                #expect(notAnEmail.status == 200 && notAnEmail.body.contains(#"id="fake-google-error""#), "asked again")
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    @Test("without Google sign-in, config.json says so and the page offers no button")
    func webAppWithoutGoogle() async throws {
        try await TestServer.run { server in
            let config = try await server.get("/app/config.json")
            #expect(config.status == .ok && config.json == ["google": .null])
        }
    }

    /// The fake issuer's consent page, asked with `fields`: its status, `Location` and body.
    static func consent(_ http: HTTPClient, _ issuer: FakeGoogleIssuer, _ fields: [String: String]) async throws -> (status: Int, location: String?, body: String) {
        var address = try #require(URLComponents(string: issuer.authorizationURL))
        address.queryItems = fields.map { URLQueryItem(name: $0.key, value: $0.value) }
        // `+` is a space in a query; URLComponents leaves it as is.
        let url = try #require(address.url?.absoluteString.replacingOccurrences(of: "+", with: "%2B"))
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "location"), String(buffer: body))
    }

    /// The ID token and state of the address the consent page sends the browser back to.
    static func answer(in location: String) throws -> (token: String, state: String?) {
        let fragment = try #require(URLComponents(string: location)?.fragment)
        let fields = try #require(URLComponents(string: "?" + fragment)?.queryItems)
        let token = try #require(fields.first { $0.name == "id_token" }?.value)
        return (token, fields.first { $0.name == "state" }?.value)
    }

    /// The claims of a JWT, read without checking its signature.
    static func claims(of token: String) throws -> JSONValue {
        let payload = try #require(token.split(separator: ".").dropFirst().first).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = payload + String(repeating: "=", count: (4 - payload.count % 4) % 4)
        return try JSONValue.parse(Array(try #require(Data(base64Encoded: padded))))
    }
}

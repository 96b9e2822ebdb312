import ChatBackend
import ChatSimulator
import Foundation
import HTTPTypes
import Testing

/// The session cookie: sign-ins set it (as the original's did), the chat socket accepts it (the
/// original's only way for its sockets), from this server's own pages only, and log-out removes it.
@Suite("Session cookie")
struct SessionCookieTests {
    /// The status of a socket handshake with these extra header lines, and the whole answer.
    static func handshake(port: Int, chat: String, query: String = "", _ headers: [String]) async throws -> (status: String, answer: String) {
        try await handshake(port: port, path: "/ws/chat/\(chat)/\(query)", headers)
    }

    /// The status of a handshake on `path` with these extra header lines, and the whole answer.
    static func handshake(port: Int, path: String, _ headers: [String]) async throws -> (status: String, answer: String) {
        let lines = [
            "GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ] + headers
        let answer = try await RawHTTP.exchange(port: port, lines.joined(separator: "\r\n") + "\r\n\r\n")
        return (answer.split(separator: " ").dropFirst().first.map(String.init) ?? "", answer)
    }

    /// Alice and Bob, friends, and their private chat.
    static func friends(_ server: TestServer) async throws -> (alice: Person, bob: Person, chat: String) {
        let alice = try await server.register("alice")
        let bob = try await server.register("bob")
        return (alice, bob, try await server.befriend(alice, bob))
    }

    @Test("registration and log-in set sessionid to the key they answer: HttpOnly, SameSite=Lax, Path=/, not Secure over http")
    func setOnSignIn() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            #expect(alice.sessionCookie == "sessionid=\(alice.token)", "registration's cookie names its key")
            let login = try await server.post("/api/rest-auth/login/", json: ["email": "alice@example.com", "password": "Pr0be-pass-2020"])
            let key = try #require(login.json["key"]?.stringValue)
            let cookie = try #require(login.headers[.setCookie])
            let attributes = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(attributes.first == "sessionid=\(key)")
            #expect(Set(attributes.dropFirst()) == ["Path=/", "HttpOnly", "SameSite=Lax"], "\(cookie)")
            // A refused log-in sets nothing.
            let refused = try await server.post("/api/rest-auth/login/", json: ["email": "alice@example.com", "password": "wrong-pass-2020"])
            #expect(refused.status == .badRequest && refused.headers[.setCookie] == nil)
        }
    }

    @Test("behind an https PUBLIC_BASE_URL the cookie is Secure")
    func secureBehindHTTPS() async throws {
        try await TestServer.run(configure: { $0.publicBaseURL = "https://chat.example.com" }) { server in
            _ = try await server.register("alice")
            let login = try await server.post("/api/rest-auth/login/", json: ["email": "alice@example.com", "password": "Pr0be-pass-2020"])
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.contains("Secure"), "\(cookie)")
        }
    }

    @Test("a socket opened with the cookie alone sends and receives like a token's; REST routes ignore the cookie")
    func cookieSocket() async throws {
        try await TestServer.run { server in
            let (alice, bob, chat) = try await Self.friends(server)
            let aliceSocket = try await alice.openSocket(chat: chat, auth: .cookie)
            let bobSocket = try await bob.openSocket(chat: chat, auth: .token)
            for socket in [aliceSocket, bobSocket] { _ = try await socket.fetch() }
            aliceSocket.send(["command": "new_message", "message": "by cookie"])
            for socket in [aliceSocket, bobSocket] {
                let arrived = await socket.wait(timeout: .seconds(10)) { frames in
                    frames.contains { $0.frame["message"]?["content"] == "by cookie" && $0.frame["message"]?["author_id"]?.intValue == alice.id }
                }
                #expect(arrived)
            }
            await aliceSocket.close()
            await bobSocket.close()

            // The cookie authenticates nothing but the socket: a page of another site, which the
            // browser gives the cookie to, can never act on the API with it.
            let rest = try await server.request(.get, "/api/user/currentuser/", headers: [.cookie: try #require(alice.sessionCookie)])
            #expect(rest.status == .unauthorized)
        }
    }

    @Test("other cookies beside sessionid, in any order, do not hide it")
    func amongOtherCookies() async throws {
        try await TestServer.run { server in
            let (alice, _, chat) = try await Self.friends(server)
            let session = try #require(alice.sessionCookie)
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<5 {
                let others = ["csrftoken=\(UUID().uuidString)", "messages=\"W1siX19\"", "theme=dark", "sessionidx=nope"]
                let cookies = ([session] + others.shuffled(using: &generator).prefix(Int.random(in: 0...4, using: &generator))).shuffled(using: &generator)
                let (status, answer) = try await Self.handshake(port: server.port, chat: chat, ["Cookie: " + cookies.joined(separator: "; ")])
                #expect(status == "101", "\(cookies): \(answer)")
            }
        }
    }

    /// Origins of pages that are not this server (the handshake's Host is `127.0.0.1:<port>`).
    static func foreignOrigins(port: Int) -> [String] {
        [
            "https://evil.example", "http://127.0.0.1:\(port).evil.example", "http://127.0.0.1.evil.example:\(port)",
            "http://localhost:\(port)", "http://127.0.0.2:\(port)", "null", "file://", "not an origin",
        ]
    }

    @Test("a handshake with the cookie from a page of another site is refused with 403, and one from this server's own pages opens")
    func crossSiteRefused() async throws {
        try await TestServer.run { server in
            let (alice, _, chat) = try await Self.friends(server)
            let cookie = "Cookie: " + (try #require(alice.sessionCookie))
            for origin in Self.foreignOrigins(port: server.port) {
                let (status, answer) = try await Self.handshake(port: server.port, chat: chat, [cookie, "Origin: \(origin)"])
                #expect(status == "403", "Origin \(origin): \(answer)")
                #expect(answer.contains(#"{"detail":"#), "a refusal says why: \(answer)")
            }
            // The host decides, as it does for the cookie itself: not the scheme, nor the port
            // (the WebSocket client of the simulator sends `ws://127.0.0.1`, without one).
            for origin in ["http://127.0.0.1:\(server.port)", "HTTP://127.0.0.1:\(server.port)", "ws://127.0.0.1", "https://127.0.0.1:\(server.port + 1)"] {
                let (status, answer) = try await Self.handshake(port: server.port, chat: chat, [cookie, "Origin: \(origin)"])
                #expect(status == "101", "Origin \(origin): \(answer)")
            }
            // No Origin: no browser page made the request.
            #expect(try await Self.handshake(port: server.port, chat: chat, [cookie]).status == "101")
            // Two, one foreign: refused.
            let twice = [cookie, "Origin: http://127.0.0.1:\(server.port)", "Origin: https://evil.example"]
            #expect(try await Self.handshake(port: server.port, chat: chat, twice).status == "403")
        }
    }

    @Test("with PUBLIC_BASE_URL, a page of that origin may open a socket with the cookie")
    func publicBaseOrigin() async throws {
        try await TestServer.run(configure: { $0.publicBaseURL = "https://chat.example.com" }) { server in
            let (alice, _, chat) = try await Self.friends(server)
            let cookie = "Cookie: " + (try #require(alice.sessionCookie))
            for origin in ["https://chat.example.com", "https://chat.example.com:8443"] {
                #expect(try await Self.handshake(port: server.port, chat: chat, [cookie, "Origin: \(origin)"]).status == "101", "\(origin)")
            }
            for origin in ["https://www.chat.example.com", "https://chat.example.com.evil.example", "https://evil.example"] {
                #expect(try await Self.handshake(port: server.port, chat: chat, [cookie, "Origin: \(origin)"]).status == "403", "\(origin)")
            }
        }
    }

    @Test("the token ways still work, whatever the Origin and the cookie; a bad cookie alone is 401; a stranger's cookie is 403")
    func tokenWays() async throws {
        try await TestServer.run { server in
            let (alice, _, chat) = try await Self.friends(server)
            let stranger = try await server.register("stranger")
            let foreign = "Origin: https://evil.example"
            // A token in the header or the query was put there by a page that knew it.
            #expect(try await Self.handshake(port: server.port, chat: chat, ["Authorization: Token \(alice.token)", foreign]).status == "101")
            #expect(try await Self.handshake(port: server.port, chat: chat, query: "?token=\(alice.token)", [foreign]).status == "101")
            // The token decides when both come, the cookie being anyone's.
            let strangerCookie = "Cookie: " + (try #require(stranger.sessionCookie))
            #expect(try await Self.handshake(port: server.port, chat: chat, ["Authorization: Token \(alice.token)", strangerCookie]).status == "101")
            #expect(try await Self.handshake(port: server.port, chat: chat, [strangerCookie]).status == "403")
            let bad = try await Self.handshake(port: server.port, chat: chat, ["Cookie: sessionid=\(String(repeating: "0", count: 40))"])
            #expect(bad.status == "401" && bad.answer.hasSuffix(#"{"detail":"Invalid token."}"#), "\(bad.answer)")
        }
    }

    @Test("the user socket takes the cookie the same way: from this server's pages, not from another site's")
    func userSocket() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let cookie = "Cookie: " + (try #require(alice.sessionCookie))
            #expect(try await Self.handshake(port: server.port, path: "/ws/", [cookie, "Origin: http://127.0.0.1:\(server.port)"]).status == "101")
            #expect(try await Self.handshake(port: server.port, path: "/ws/", [cookie, "Origin: https://evil.example"]).status == "403")
            #expect(try await Self.handshake(port: server.port, path: "/ws/", ["Cookie: sessionid=\(String(repeating: "0", count: 40))"]).status == "401")
        }
    }

    @Test("log-out removes the cookie, and the cookie it removed opens no socket")
    func logoutClears() async throws {
        try await TestServer.run { server in
            let (alice, _, chat) = try await Self.friends(server)
            let cookie = try #require(alice.sessionCookie)
            let logout = try await server.post("/api/rest-auth/logout/", token: alice.token)
            #expect(logout.status == .ok)
            let cleared = try #require(logout.headers[.setCookie])
            #expect(cleared.hasPrefix(#"sessionid="""#) && cleared.contains("Max-Age=0") && cleared.contains("Path=/"), "\(cleared)")
            #expect(try await Self.handshake(port: server.port, chat: chat, ["Cookie: \(cookie)"]).status == "401")
            // Without a token too: the browser's cookie goes either way.
            #expect(try await server.post("/api/rest-auth/logout/").headers[.setCookie]?.contains("Max-Age=0") == true)
        }
    }
}

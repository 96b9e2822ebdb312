import ChatBackend
import Testing

@Suite("Persistence and bounds")
struct PersistenceTests {
    @Test("a restart on the same SQLite file keeps accounts, tokens, friends, chats and messages")
    func restart() async throws {
        let database = try await TestServer.freshDatabase()
        let (alice, bob, chat) = try await TestServer.run(database: database) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            socket.send(["command": "new_message", "message": "before the restart"])
            _ = try await socket.next(after: 0)
            await socket.close()
            return (alice, bob, chat)
        }
        try await TestServer.run(database: database) { server in
            #expect(try await server.get("/api/user/currentuser/", token: alice.token).json["username"] == "alice")
            #expect(try await server.post("/api/rest-auth/login/", json: ["email": "bob@example.com", "password": "Pr0be-pass-2020"]).status == .ok)
            #expect(try await server.get("/api/user/friends/", token: bob.token).json.firstResult?["username"] == "alice")
            #expect(try await server.get("/api/chat/\(chat)/", token: bob.token).json["lastmessage"] == "before the restart")
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: bob.token)
            #expect(try await socket.fetch()["messages"]?.arrayValue?.first?["content"] == "before the restart")
            await socket.close()
        }
    }

    @Test("oversized and malformed bodies get contract-shaped 4xx, never a 500")
    func badBodies() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let huge = JSONValue.object([("name", .string(String(repeating: "x", count: 70_000)))])
            let tooLarge = try await server.post("/api/chat/mychats/groups/", token: alice.token, json: huge)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.json["detail"] != nil)
            let notJSON = try await server.request(
                .post, "/api/rest-auth/login/", headers: [.contentType: "application/json"]
            )
            #expect(notJSON.status == .badRequest)
            for body: JSONValue in [[1, 2], "text", ["email": 5, "password": true], ["email": .string(String(repeating: "a", count: 300)), "password": "x"]] {
                let reply = try await server.post("/api/rest-auth/login/", json: body)
                #expect(reply.status == .badRequest, "\(body.serialized): \(reply.body)")
                #expect(reply.json != .null)
            }
            #expect(try await server.get("/nowhere/").json == ["detail": "Not found."])
            let wrongMethod = try await server.request(.delete, "/api/user/currentuser/", token: alice.token)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.json == ["detail": "Method \"DELETE\" not allowed."])
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(try await server.request(.put, "/api/user/friends/", token: alice.token).headers[.allow] == "GET, POST")
            // A constant path beside a capture with that method (`PATCH {uuid}/`) is still the constant's.
            let patchList = try await server.request(.patch, "/api/chat/mychats/", token: alice.token)
            #expect(patchList.status == .methodNotAllowed)
            #expect(patchList.headers[.allow] == "GET, POST")
            let longPhrase = String(repeating: "a", count: 101)
            #expect(try await server.get("/api/user/search/\(longPhrase)/", token: alice.token).status == .badRequest)
        }
    }
}

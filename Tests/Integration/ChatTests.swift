import ChatBackend
import Testing

@Suite("Chats")
struct ChatTests {
    @Test("my chats by type, group creation and its refusals")
    func myChats() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            #expect(try await server.get("/api/chat/mychats/", token: alice.token).status == .noContent)
            try await server.befriend(alice, bob)
            #expect(try await server.get("/api/chat/mychats/private/", token: alice.token).json["count"] == 1)
            #expect(try await server.get("/api/chat/mychats/groups/", token: alice.token).status == .noContent)
            #expect(try await server.get("/api/chat/mychats/bogus/", token: alice.token).status == .badRequest)

            let created = try await server.post("/api/chat/mychats/groups/", token: alice.token, json: ["name": "friends"])
            #expect(created.status == .created)
            #expect(created.json["name"] == "friends" && created.json["is_group_chat"] == true)
            #expect(created.json["participants"] == [.string("\(server.baseURL)/api/user/\(alice.uuid)/")])
            #expect(created.json["creator_id"] == .int(alice.id), "the group names its creator, who may remove members")
            let pair = try #require(try await server.get("/api/chat/mychats/private/", token: bob.token).json["results"]?.arrayValue?.first?["uuid"]?.stringValue)
            #expect(try await server.detail(of: pair, as: bob)["creator_id"] == .null, "a private chat has no creator")

            let groups = "/api/chat/mychats/groups/"
            #expect(try await server.post(groups, token: alice.token, json: [:]).status == .badRequest)
            #expect(try await server.post(groups, token: alice.token, json: ["name": .string(String(repeating: "x", count: 51))]).status == .badRequest)
            #expect(try await server.post(groups, token: alice.token, json: ["name": .string(String(repeating: "x", count: 50))]).status == .created)
            #expect(try await server.post("/api/chat/mychats/private/", token: alice.token, json: ["name": "x"]).status == .badRequest)
            #expect(try await server.post("/api/chat/mychats/", token: alice.token, json: ["name": "x"]).status == .badRequest)

            let all = try await server.get("/api/chat/mychats/?limit=1", token: alice.token).json
            #expect(all["count"] == 3)
            #expect(all["next"] == .string("\(server.baseURL)/api/chat/mychats/?limit=1&offset=1"))
        }
    }

    @Test("adding to a group: friends only, once, never to a private chat, only by a participant")
    func addParticipants() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let dave = try await server.register("dave")
            let privateChat = try await server.befriend(alice, bob)
            try await server.befriend(alice, carol)
            let group = try await alice.createGroup(name: "g")
            let route = "/api/chat/\(group)/"
            #expect(try await server.post(route, token: alice.token, json: ["user_uuid": .string(bob.uuid)]).status == .ok)
            #expect(try await server.post(route, token: alice.token, json: ["user_uuid": .string(bob.uuid)]).status == .notAcceptable)
            #expect(try await server.post(route, token: alice.token, json: ["user_uuid": .string(dave.uuid)]).status == .badRequest)
            #expect(try await server.post(route, token: alice.token, json: ["user_uuid": "00000000-0000-4000-8000-000000000000"]).status == .notFound)
            #expect(try await server.post(route, token: alice.token, json: [:]).status == .badRequest)
            #expect(try await server.post("/api/chat/\(privateChat)/", token: alice.token, json: ["user_uuid": .string(carol.uuid)]).status == .notAcceptable)
            #expect(try await server.post(route, token: dave.token, json: ["user_uuid": .string(bob.uuid)]).json == ["error": "No access!"])
            // Bob is in the group now, and sees it.
            #expect(try await server.get("/api/chat/mychats/groups/", token: bob.token).json.firstResult?["uuid"] == .string(group))
            guard case .array(let participants)? = try await server.get(route, token: bob.token).json["participants"] else {
                throw TestFailure("no participants")
            }
            #expect(participants.count == 2)
        }
    }

    @Test("a message makes its chat the newest activity and its lastmessage")
    func activityOrder() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let withBob = try await server.befriend(alice, bob)
            let withCarol = try await server.befriend(alice, carol)
            #expect(try await server.get("/api/chat/mychats/", token: alice.token).json.firstResult?["uuid"] == .string(withCarol))

            let socket = try await TestSocket.connect(port: server.port, chat: withBob, token: alice.token)
            socket.send(["command": "new_message", "message": "hello bob"])
            _ = try await socket.frames(count: 1)
            await socket.close()

            let list = try await server.get("/api/chat/mychats/", token: alice.token).json
            #expect(list.firstResult?["uuid"] == .string(withBob))
            #expect(list.firstResult?["lastmessage"] == "hello bob")
            #expect(try await server.get("/api/chat/\(withBob)/", token: bob.token).json["lastmessage"] == "hello bob")
            let found = try await server.get("/api/chat/\(withBob)/search/BOB/", token: bob.token).json
            #expect(found["count"] == 1 && found.firstResult?["content"] == "hello bob")
            #expect(try await server.get("/api/chat/\(withBob)/search/carol/", token: bob.token).status == .noContent)
        }
    }
}

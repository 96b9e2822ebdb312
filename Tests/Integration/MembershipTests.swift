import ChatBackend
import Foundation
import Testing

/// Leaving a group, removing a member, renaming a group.
@Suite("Leaving, removing and renaming")
struct MembershipTests {
    @Test("the creator removes a member, no one else may; the removed member loses the chat over REST and the socket")
    func removal() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let group = try await server.group("g", owner: alice, members: [bob, carol])
            let route = { (person: Person) in "/api/chat/\(group)/participants/\(person.uuid)/" }
            let carolsSocket = try await TestSocket.connect(port: server.port, chat: group, token: carol.token)
            _ = try await carolsSocket.fetch()

            #expect(try await server.delete(route(carol), token: bob.token).status == .forbidden)
            #expect(try await server.delete(route(carol), token: alice.token).status == .noContent)
            let closing = try await carolsSocket.closedByServer()
            #expect(closing?.closeCode == .policyViolation, "her open socket is closed at once: \(String(describing: closing))")
            #expect(try await server.delete(route(carol), token: alice.token).status == .notFound, "not a member any more")
            #expect(try await server.delete("/api/chat/\(group)/participants/00000000-0000-4000-8000-000000000000/", token: alice.token).status == .notFound)
            #expect(try await server.delete("/api/chat/\(group)/participants/nobody/", token: alice.token).status == .notFound)

            #expect(try await server.detail(of: group, as: carol) == ["error": "No access!"])
            #expect(try await server.send("still here?", to: group, as: carol).json == ["error": "No access!"])
            #expect(try await server.post("/api/chat/\(group)/read/", token: carol.token, json: ["seq": 0]).json == ["error": "No access!"])
            #expect(try await server.get("/api/chat/mychats/groups/", token: carol.token).status == .noContent)
            let handshake = try await RawHTTP.exchange(port: server.port, RawHTTP.upgradeRequest("/ws/chat/\(group)/", token: carol.token))
            #expect(handshake.hasPrefix("HTTP/1.1 403"), "\(handshake)")
            #expect(try await server.detail(of: group, as: bob)["participants"]?.arrayValue?.count == 2)

            // A private chat's members are fixed.
            let privateChat = try await server.befriend(bob, carol)
            #expect(try await server.delete("/api/chat/\(privateChat)/participants/\(carol.uuid)/", token: bob.token).status == .notAcceptable)
        }
    }

    @Test("leaving: the member is out of the group and its list; the creator's rights end with leaving; a private chat cannot be left")
    func leaving() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let group = try await server.group("g", owner: alice, members: [bob, carol])
            let leave = "/api/chat/\(group)/leave/"

            #expect(try await server.post(leave, token: bob.token).status == .noContent)
            #expect(try await server.post(leave, token: bob.token).json == ["error": "No access!"])
            #expect(try await server.detail(of: group, as: bob) == ["error": "No access!"])
            #expect(try await server.get("/api/chat/mychats/groups/", token: bob.token).status == .noContent)

            // The creator leaves: they can no longer remove anyone or delete others' messages.
            let carols = try await server.sent("carol's", to: group, as: carol)
            #expect(try await server.post(leave, token: alice.token).status == .noContent)
            #expect(try await server.delete("/api/chat/\(group)/participants/\(carol.uuid)/", token: alice.token).json == ["error": "No access!"])
            let message = "/api/chat/\(group)/messages/\(carols["id"]?.intValue ?? 0)/"
            #expect(try await server.delete(message, token: alice.token).json == ["error": "No access!"])
            #expect(try await server.detail(of: group, as: carol)["participants"]?.arrayValue?.count == 1)

            let privateChat = try await server.befriend(bob, carol)
            #expect(try await server.post("/api/chat/\(privateChat)/leave/", token: bob.token).status == .notAcceptable)
            #expect(try await server.post("/api/chat/00000000-0000-4000-8000-000000000000/leave/", token: bob.token).status == .notFound)
        }
    }

    @Test("renaming: any participant of a group, with the group's name bounds; never a private chat")
    func renaming() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let eve = try await server.register("eve")
            let group = try await server.group("g", owner: alice, members: [bob])
            let route = "/api/chat/\(group)/"

            let renamed = try await server.patch(route, token: bob.token, json: ["name": "new name"])
            #expect(renamed.status == .ok)
            #expect(renamed.json["name"] == "new name" && renamed.json["participants"]?.arrayValue?.count == 2)
            #expect(renamed.json["unread"] == 0 && renamed.json["last_seq"] == 0)
            #expect(try await server.get("/api/chat/mychats/", token: alice.token).json.firstResult?["name"] == "new name")

            let tooLong = try await server.patch(route, token: bob.token, json: ["name": .string(String(repeating: "x", count: Limits.chatNameCharacters + 1))])
            #expect(tooLong.status == .badRequest && tooLong.json["name"] != nil)
            #expect(try await server.patch(route, token: bob.token, json: [:]).json["name"] != nil)
            #expect(try await server.patch(route, token: bob.token, json: ["name": ""]).json["name"] != nil)
            #expect(try await server.patch(route, token: eve.token, json: ["name": "mine"]).json == ["error": "No access!"])
            #expect(try await server.detail(of: group, as: alice)["name"] == "new name", "refusals changed nothing")

            let privateChat = try await server.befriend(bob, eve)
            #expect(try await server.patch("/api/chat/\(privateChat)/", token: bob.token, json: ["name": "x"]).status == .notAcceptable)
        }
    }
}

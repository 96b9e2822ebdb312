import ChatBackend
import Foundation
import Testing

/// Sending, editing and deleting messages over REST (PROTOCOL.md's REST additions).
@Suite("Messages over REST")
struct MessageRESTTests {
    @Test("a send with client_id: 201 and the ack; a retry: 200, the same ack, nothing stored, no second broadcast")
    func idempotentSend() async throws {
        try await TestServer.run { server in
            let (alice, bob, chat, aliceSocket, bobSocket) = try await server.friendsOnSockets()
            // A socket is registered once it has answered a command.
            _ = try await aliceSocket.fetch()
            _ = try await bobSocket.fetch()

            let first = try await server.send("hello", to: chat, as: alice, clientID: "c-1")
            #expect(first.status == .created)
            #expect(first.json["client_id"] == "c-1" && first.json["chat"] == .string(chat) && first.json["seq"] == 1)
            #expect(first.json["id"]?.intValue != nil && first.json["time_stamp"]?.stringValue != nil)
            let retry = try await server.send("hello, again", to: chat, as: alice, clientID: "c-1")
            #expect(retry.status == .ok)
            #expect(retry.json == first.json, "same id, seq and time stamp, whatever the text")
            // The key is (user, chat, client_id): Bob's c-1 is his own message.
            let bobs = try await server.send("hi alice", to: chat, as: bob, clientID: "c-1")
            #expect(bobs.status == .created && bobs.json["seq"] == 2)

            for socket in [aliceSocket, bobSocket] {
                let broadcasts = try await socket.frames(count: 3).dropFirst().map { $0["message"] }
                #expect(broadcasts.map { $0?["seq"] } == [1, 2])
                #expect(broadcasts.map { $0?["content"] } == ["hello", "hi alice"])
                #expect(broadcasts.allSatisfy { $0?["client_id"] == nil }, "chat sockets get what they always got, plus seq")
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(aliceSocket.all.count == 3 && bobSocket.all.count == 3, "the retry was not broadcast")
            let history = try await server.history(of: chat, as: bob)
            #expect(history.map { $0["content"] } == ["hi alice", "hello"])
            #expect(try await server.detail(of: chat, as: bob)["last_seq"] == 2)
            await aliceSocket.close()
            await bobSocket.close()
        }
    }

    @Test("ten copies of one send at once: one 201, nine 200, one message, one broadcast")
    func concurrentRetries() async throws {
        try await TestServer.run { server in
            let (alice, _, chat, aliceSocket, bobSocket) = try await server.friendsOnSockets()
            await aliceSocket.close()
            _ = try await bobSocket.fetch()
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<10 { group.addTask { try await server.send("once", to: chat, as: alice, clientID: "same") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.filter { $0.status == .created }.count == 1)
            #expect(replies.filter { $0.status == .ok }.count == 9)
            #expect(replies.allSatisfy { $0.json == replies[0].json }, "every answer is the first send's ack")
            _ = try await bobSocket.frames(count: 2)
            try await Task.sleep(for: .milliseconds(300))
            #expect(bobSocket.all.count == 2)
            #expect(try await server.history(of: chat, as: alice).count == 1)
            await bobSocket.close()
        }
    }

    @Test("REST and socket sends share one seq; a REST send reaches the chat socket as new_message with its seq")
    func restAndSocketInterleave() async throws {
        try await TestServer.run { server in
            let (alice, bob, chat, aliceSocket, bobSocket) = try await server.friendsOnSockets()
            _ = try await bobSocket.fetch()
            aliceSocket.send(["command": "new_message", "message": "by socket"])
            _ = try await bobSocket.frames(count: 2)
            _ = try await server.sent("by rest", to: chat, as: bob)
            let frame = try await bobSocket.next(after: 2)
            #expect(frame["command"] == "new_message")
            #expect(frame["message"]?["seq"] == 2 && frame["message"]?["content"] == "by rest")
            #expect(frame["message"]?["author_id"] == .int(bob.id))
            #expect(try await server.detail(of: chat, as: alice)["lastmessage"] == "by rest")
            await aliceSocket.close()
            await bobSocket.close()
        }
    }

    @Test("edit: the author only; delete: the author or the group's creator; a tombstone keeps its seq and the history shows both")
    func editAndDeleteRules() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let group = try await server.group("g", owner: alice, members: [bob, carol])
            let first = try await server.sent("bob one", to: group, as: bob)
            let second = try await server.sent("carol two", to: group, as: carol)
            let third = try await server.sent("bob three", to: group, as: bob)
            func route(_ ack: JSONValue) -> String { "/api/chat/\(group)/messages/\(ack["id"]?.intValue ?? 0)/" }

            // Editing: only the author, even for the creator.
            #expect(try await server.patch(route(third), token: alice.token, json: ["message": "x"]).status == .forbidden)
            let edited = try await server.patch(route(third), token: bob.token, json: ["message": "bob three, edited"])
            #expect(edited.status == .ok)
            #expect(edited.json["content"] == "bob three, edited" && edited.json["seq"] == 3 && edited.json["edited_at"]?.stringValue != nil)

            // Deleting: the author, or the group's creator; not another member.
            #expect(try await server.delete(route(first), token: carol.token).status == .forbidden)
            #expect(try await server.delete(route(second), token: alice.token).status == .noContent, "the creator")
            #expect(try await server.delete(route(first), token: bob.token).status == .noContent, "the author")
            #expect(try await server.delete(route(first), token: bob.token).status == .noContent, "again: nothing changes")
            #expect(try await server.patch(route(first), token: bob.token, json: ["message": "back"]).status == .conflict)

            // Unknown ids, and a message of another chat, are not found.
            let other = try await server.befriend(bob, carol)
            let elsewhere = try await server.sent("private", to: other, as: bob)
            #expect(try await server.delete(route(elsewhere), token: bob.token).status == .notFound)
            #expect(try await server.delete("/api/chat/\(group)/messages/999999/", token: bob.token).status == .notFound)
            #expect(try await server.delete("/api/chat/\(group)/messages/abc/", token: bob.token).status == .notFound)

            let history = try await server.history(of: group, as: carol)
            #expect(history.map { $0["seq"] } == [3, 2, 1], "no gap")
            #expect(history.map { $0["content"] } == ["bob three, edited", "", ""])
            #expect(history.map { $0["deleted"] } == [nil, true, true])
            #expect(history[0]["edited_at"] == edited.json["edited_at"])
            // The next message carries on after the tombstones.
            #expect(try await server.sent("four", to: group, as: carol)["seq"] == 4)
            let fifth = try await server.sent("five", to: group, as: carol)
            #expect(try await server.delete(route(fifth), token: carol.token).status == .noContent)
            #expect(try await server.detail(of: group, as: bob)["lastmessage"] == "four", "the newest message not deleted")
        }
    }

    @Test("bad sends and edits are refused with a clear error and store nothing; strangers get no access")
    func badInput() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let eve = try await server.register("eve")
            let chat = try await server.befriend(alice, bob)
            let route = "/api/chat/\(chat)/messages/"
            let bad: [(JSONValue, String)] = [
                (["message": "hi", "client_id": .string(String(repeating: "c", count: Limits.clientIDCharacters + 1))], "client_id"),
                (["message": "hi", "client_id": ""], "client_id"),
                (["message": "hi", "client_id": "a\u{1}b"], "client_id"),
                (["message": "hi", "client_id": 5], "client_id"),
                (["message": "hi"], "client_id"),
                (["client_id": "c"], "message"),
                (["message": "   \n", "client_id": "c"], "message"),
                (["message": 7, "client_id": "c"], "message"),
                (["message": .string(String(repeating: "m", count: Limits.messageCharacters + 1)), "client_id": "c"], "message"),
            ]
            for (body, field) in bad {
                let reply = try await server.post(route, token: alice.token, json: body)
                #expect(reply.status == .badRequest && reply.json[field] != nil, "\(body.serialized) → \(reply.status) \(reply.body)")
            }
            let fits = try await server.send(String(repeating: "m", count: Limits.messageCharacters), to: chat, as: alice,
                                             clientID: String(repeating: "c", count: Limits.clientIDCharacters))
            #expect(fits.status == .created && fits.json["seq"] == 1, "at the bounds")

            #expect(try await server.send("hi", to: chat, as: eve).json == ["error": "No access!"])
            #expect(try await server.send("hi", to: "00000000-0000-4000-8000-000000000000", as: alice).status == .notFound)
            #expect(try await server.post(route, json: ["message": "hi", "client_id": "c"]).status == .unauthorized)
            let id = try #require(fits.json["id"]?.intValue)
            #expect(try await server.patch("\(route)\(id)/", token: eve.token, json: ["message": "mine"]).json == ["error": "No access!"])
            #expect(try await server.delete("\(route)\(id)/", token: eve.token).json == ["error": "No access!"])
            #expect(try await server.patch("\(route)\(id)/", token: alice.token, json: [:]).json["message"] != nil)
            #expect(try await server.patch("\(route)\(id)/", token: alice.token, json: ["message": " "]).status == .badRequest)

            let history = try await server.history(of: chat, as: bob)
            #expect(history.count == 1 && history.first?["content"]?.stringValue?.count == Limits.messageCharacters)
            #expect(try await server.detail(of: chat, as: bob)["last_seq"] == 1, "nothing else stored")
        }
    }
}

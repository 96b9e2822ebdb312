import ChatBackend
import Testing

@Suite("Users, friends and invitations")
struct SocialTests {
    @Test("users: the caller, another by uuid, search with the friend flag, 204 when nothing matches")
    func users() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice-x1")
            let bob = try await server.register("bob-x1")
            _ = try await server.register("carol-x1")
            #expect(try await server.get("/api/user/currentuser/", token: alice.token).json
                == ["email": "alice-x1@example.com", "id": .int(alice.id), "uuid": .string(alice.uuid), "username": "alice-x1", "photo": nil, "is_active": true])
            #expect(try await server.get("/api/user/\(bob.uuid)/", token: alice.token).json["username"] == "bob-x1")
            #expect(try await server.get("/api/user/00000000-0000-4000-8000-000000000000/", token: alice.token).json == ["detail": "Not found."])
            #expect(try await server.get("/api/user/not-a-uuid/", token: alice.token).status == .notFound)
            #expect(try await server.get("/api/user/\(bob.uuid)/").status == .unauthorized)

            try await server.befriend(alice, bob)
            let search = try await server.get("/api/user/search/X1/?limit=2&offset=1", token: alice.token)
            #expect(search.json["count"] == 3)
            #expect(search.json["next"] == .null)
            #expect(search.json["previous"] == .string("\(server.baseURL)/api/user/search/X1/?limit=2"))
            let all = try await server.get("/api/user/search/x1/", token: alice.token).json
            guard case .array(let results)? = all["results"] else { throw TestFailure("no results: \(all)") }
            #expect(results.map { $0["username"] } == ["alice-x1", "bob-x1", "carol-x1"])
            #expect(results.map { $0["is_friend_of_current_user"] } == [false, true, false])
            #expect(try await server.get("/api/user/search/zzqq/", token: alice.token).status == .noContent)
            #expect(try await server.get("/api/user/search/a%20b/", token: alice.token).status == .noContent)
            #expect(try await server.get("/api/user/search/%25/", token: alice.token).status == .noContent)
        }
    }

    @Test("invitations: invite, 406 twice either way, only the invitee answers, accept opens a private chat, decline deletes")
    func invitations() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let dave = try await server.register("dave")
            #expect(try await server.get("/api/user/friends/", token: alice.token).status == .noContent)
            #expect(try await server.get("/api/user/invitations/", token: bob.token).status == .noContent)

            let invite = "/api/user/friends/"
            #expect(try await server.post(invite, token: alice.token, json: ["user_uuid": .string(bob.uuid)]).status == .created)
            #expect(try await server.post(invite, token: alice.token, json: ["user_uuid": .string(bob.uuid)]).status == .notAcceptable)
            #expect(try await server.post(invite, token: bob.token, json: ["user_uuid": .string(alice.uuid)]).status == .notAcceptable)
            #expect(try await server.post(invite, token: alice.token, json: ["user_uuid": "00000000-0000-4000-8000-000000000000"]).status == .notFound)
            #expect(try await server.post(invite, token: alice.token, json: [:]).json == ["user_uuid": ["This field is required."]])
            #expect(try await server.post(invite, token: alice.token, json: ["user_uuid": "xyz"]).json == ["user_uuid": ["Must be a valid UUID."]])
            #expect(try await server.post(invite, token: alice.token, json: ["user_uuid": .string(alice.uuid)]).status == .badRequest)
            #expect(try await server.post(invite, token: alice.token, json: ["user_uuid": .string(carol.uuid)]).status == .created)

            let pending = try await server.get("/api/user/invitations/", token: bob.token).json
            guard case .array(let list) = pending, let first = list.first, let bobInvitation = first["id"] else {
                throw TestFailure("no invitation: \(pending)")
            }
            #expect(first["first_user"] == "alice" && first["second_user"] == "bob")
            let carolInvitation = try #require(try await server.get("/api/user/invitations/", token: carol.token).json.firstOfArray?["id"])

            let answer = "/api/user/invitations/"
            // Nobody but the invitee can answer: not a third party, not the inviter.
            #expect(try await server.post(answer, token: dave.token, json: ["contact_id": bobInvitation, "decision": true]).status == .notFound)
            #expect(try await server.post(answer, token: alice.token, json: ["contact_id": bobInvitation, "decision": true]).status == .notFound)
            #expect(try await server.post(answer, token: bob.token, json: [:]).status == .badRequest)
            #expect(try await server.post(answer, token: bob.token, json: ["contact_id": bobInvitation, "decision": "maybe"]).status == .badRequest)
            #expect(try await server.post(answer, token: bob.token, json: ["contact_id": 99_999_999, "decision": true]).status == .notFound)

            let accepted = try await server.post(answer, token: bob.token, json: ["contact_id": bobInvitation, "decision": true])
            #expect(accepted.status == .created)
            #expect(accepted.json["is_group_chat"] == false && accepted.json["name"] == .null && accepted.json["lastmessage"] == .null)
            guard case .array(let participants)? = accepted.json["participants"] else { throw TestFailure("no participants") }
            #expect(Set(participants.compactMap(\.stringValue)) == Set([alice.uuid, bob.uuid].map { "\(server.baseURL)/api/user/\($0)/" }))
            #expect(try await server.post(answer, token: bob.token, json: ["contact_id": bobInvitation, "decision": true]).status.code == 208)
            guard case .int(let bobID) = bobInvitation else { throw TestFailure("id not an int") }
            #expect(try await server.post(answer, token: bob.token, json: ["contact_id": .string(String(bobID)), "decision": "true"]).status.code == 208)

            #expect(try await server.post(answer, token: carol.token, json: ["contact_id": carolInvitation, "decision": false]).status == .ok)
            #expect(try await server.post(answer, token: carol.token, json: ["contact_id": carolInvitation, "decision": false]).status == .notFound)
            // Declined: either may ask again.
            #expect(try await server.post(invite, token: carol.token, json: ["user_uuid": .string(alice.uuid)]).status == .created)

            let friends = try await server.get("/api/user/friends/", token: alice.token).json
            #expect(friends["count"] == 1)
            #expect(friends.firstResult?["username"] == "bob")
            #expect(try await server.get("/api/user/friends/", token: bob.token).json.firstResult?["username"] == "alice")
            #expect(try await server.get("/api/chat/mychats/private/", token: bob.token).json["count"] == 1)
        }
    }

    @Test("friends paginate with DRF's links; limits are capped")
    func friendsPagination() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            for name in ["bob", "carol", "dave"] {
                try await server.befriend(alice, try await server.register(name))
            }
            let page = try await server.get("/api/user/friends/?limit=1&offset=1", token: alice.token).json
            #expect(page["count"] == 3)
            #expect(page.firstResult?["username"] == "carol")
            #expect(page["previous"] == .string("\(server.baseURL)/api/user/friends/?limit=1"))
            #expect(page["next"] == .string("\(server.baseURL)/api/user/friends/?limit=1&offset=2"))
            let huge = try await server.get("/api/user/friends/?limit=100000&offset=-5", token: alice.token).json
            #expect(huge["count"] == 3 && huge["next"] == .null && huge["previous"] == .null)
            let junk = try await server.get("/api/user/friends/?limit=abc", token: alice.token)
            #expect(junk.status == .ok)
        }
    }
}

extension JSONValue {
    /// The first element of an array.
    var firstOfArray: JSONValue? {
        if case .array(let values) = self { return values.first }
        return nil
    }

    /// The first of a paginated answer's results.
    var firstResult: JSONValue? {
        self["results"]?.firstOfArray
    }
}

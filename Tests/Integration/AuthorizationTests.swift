import ChatBackend
import Hummingbird
import Testing

/// Who may do what: every chat route and the socket, for each kind of caller.
@Suite("Authorization matrix")
struct AuthorizationTests {
    enum Caller: String, CaseIterable, Sendable {
        case anonymous, badToken, stranger, participant
    }

    struct Route: Sendable, CustomTestStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let body: JSONValue?
        /// What a participant gets.
        let allowed: HTTPResponse.Status
        var testDescription: String { "\(method) \(path)" }
    }

    static let chatRoutes: [Route] = [
        Route(method: .get, path: "/api/chat/{chat}/", body: nil, allowed: .ok),
        Route(method: .post, path: "/api/chat/{chat}/", body: ["user_uuid": "{friend}"], allowed: .ok),
        Route(method: .get, path: "/api/chat/{chat}/search/hi/", body: nil, allowed: .ok),
    ]

    @Test("chat routes", arguments: chatRoutes, Caller.allCases)
    func chatRoute(route: Route, caller: Caller) async throws {
        try await TestServer.run { server in
            let (owner, friend, stranger) = (try await server.register("owner"), try await server.register("friend"), try await server.register("stranger"))
            let chat = try await owner.createGroup(name: "g")
            try await server.befriend(owner, friend)
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: owner.token)
            socket.send(["command": "new_message", "message": "hi there"])
            _ = try await socket.frames(count: 1)
            await socket.close()

            let path = route.path.replacingOccurrences(of: "{chat}", with: chat)
            let body = route.body.map { JSONValue.string(friend.uuid) == $0["user_uuid"] ? $0 : ["user_uuid": .string(friend.uuid)] }
            let token: String? = switch caller {
            case .anonymous: nil
            case .badToken: String(repeating: "0", count: 40)
            case .stranger: stranger.token
            case .participant: owner.token
            }
            let reply = try await server.request(route.method, path, token: token, json: body)
            switch caller {
            case .anonymous:
                #expect(reply.status == .unauthorized)
                #expect(reply.json == ["detail": "Authentication credentials were not provided."])
                #expect(reply.headers[.wwwAuthenticate] == "Token")
            case .badToken:
                #expect(reply.status == .unauthorized)
                #expect(reply.json == ["detail": "Invalid token."])
            case .stranger:
                #expect(reply.status == .badRequest)
                #expect(reply.json == ["error": "No access!"])
            case .participant:
                #expect(reply.status == route.allowed, "\(reply.body)")
            }
        }
    }

    @Test("the socket handshake", arguments: Caller.allCases)
    func socket(caller: Caller) async throws {
        try await TestServer.run { server in
            let owner = try await server.register("owner")
            let stranger = try await server.register("stranger")
            let chat = try await owner.createGroup(name: "g")
            let token: String? = switch caller {
            case .anonymous: nil
            case .badToken: String(repeating: "0", count: 40)
            case .stranger: stranger.token
            case .participant: owner.token
            }
            let answer = try await RawHTTP.exchange(port: server.port, RawHTTP.upgradeRequest("/ws/chat/\(chat)/", token: token))
            let status = answer.split(separator: " ").dropFirst().first.map(String.init)
            switch caller {
            case .anonymous: #expect(status == "401")
            case .badToken: #expect(status == "401" && answer.hasSuffix(#"{"detail":"Invalid token."}"#))
            case .stranger: #expect(status == "403")
            case .participant: #expect(status == "101")
            }
            if caller != .participant {
                #expect(answer.contains(#"{"detail":"#), "a refusal says why: \(answer)")
            }
            let unknown = try await RawHTTP.exchange(
                port: server.port, RawHTTP.upgradeRequest("/ws/chat/00000000-0000-4000-8000-000000000000/", token: owner.token)
            )
            #expect(unknown.hasPrefix("HTTP/1.1 404"))
            #expect(try await server.get("/ws/chat/\(chat)/", token: owner.token).status == .upgradeRequired)
        }
    }
}

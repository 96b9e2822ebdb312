import ChatBackend
import Foundation

/// The REST additions of PROTOCOL.md, step by step, and the history as a chat socket reads it.
extension TestServer {
    func patch(_ path: String, token: String?, json: JSONValue) async throws -> Reply {
        try await request(.patch, path, token: token, json: json)
    }

    func delete(_ path: String, token: String?) async throws -> Reply {
        try await request(.delete, path, token: token)
    }

    /// `POST /api/chat/<chat>/messages/` as `person`, with a new client id unless one is given.
    func send(_ text: String, to chat: String, as person: Person, clientID: String = UUID().uuidString) async throws -> Reply {
        try await post("/api/chat/\(chat)/messages/", token: person.token, json: ["message": .string(text), "client_id": .string(clientID)])
    }

    /// Sends and returns the new message's ack; throws unless it was stored (201).
    func sent(_ text: String, to chat: String, as person: Person) async throws -> JSONValue {
        let reply = try await send(text, to: chat, as: person)
        guard reply.status == .created else { throw TestFailure("send answered \(reply.status): \(reply.body)") }
        return reply.json
    }

    /// The whole history of a chat, newest first, as `person`'s chat socket pages it by `before_seq`.
    func history(of chat: String, as person: Person) async throws -> [JSONValue] {
        let socket = try await TestSocket.connect(port: port, chat: chat, token: person.token)
        var messages: [JSONValue] = []
        var cursor: Int64 = 1_000_000_000
        for _ in 0..<1_000 {
            let page = try await socket.fetch(beforeSeq: cursor)
            messages += page["messages"]?.arrayValue ?? []
            guard page["error"] == nil, let oldest = page["last_message_seq"]?.intValue else { break }
            cursor = oldest
        }
        await socket.close()
        return messages
    }

    /// The chat's detail as `person` sees it.
    func detail(of chat: String, as person: Person) async throws -> JSONValue {
        try await get("/api/chat/\(chat)/", token: person.token).json
    }
}

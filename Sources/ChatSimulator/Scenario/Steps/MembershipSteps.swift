import ChatBackend

// A group's members and name (PROTOCOL.md's REST additions): leave, remove, rename.

/// `leave`: `actor` leaves the group `chat` (`POST /api/chat/<uuid>/leave/`). What was sent before
/// is delivered first; then their user socket must hear `removed` and stop receiving the chat,
/// and the server must close their chat socket on it.
public struct LeaveStep: Sendable, Decodable {
    public let actor, chat: String
    /// The status expected; 204 by default (anything else: a refusal, which changes nothing).
    public let expect: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        let expected = expect ?? 204
        let chatSocket = expected == 204 ? try await runner.leaving(actor, chatName: chat) : nil
        runner.expect(try await person.client.request(.POST, "/api/chat/\(uuid)/leave/"), expected, client: person.username)
        if expected == 204 { await runner.left(actor, chat: uuid, chatSocket: chatSocket) }
    }
}

/// `remove`: `actor` (the group's creator) takes `user` out of `chat`
/// (`DELETE /api/chat/<uuid>/participants/<user uuid>/`); for `user`, as `leave`.
public struct RemoveStep: Sendable, Decodable {
    public let actor, chat, user: String
    /// The status expected; 204 by default (403 for anyone but the creator).
    public let expect: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), remover = try runner.person(actor, "actor"), removed = try runner.person(user, "user")
        let expected = expect ?? 204
        let chatSocket = expected == 204 ? try await runner.leaving(user, chatName: chat) : nil
        let response = try await remover.client.request(.DELETE, "/api/chat/\(uuid)/participants/\(removed.uuid)/")
        runner.expect(response, expected, client: remover.username)
        if expected == 204 { await runner.left(user, chat: uuid, chatSocket: chatSocket) }
    }
}

/// `rename`: `actor` renames the group `chat` to `name` (`PATCH /api/chat/<uuid>/`); every
/// member's user socket must hear `updated` with the new name.
public struct RenameStep: Sendable, Decodable {
    public let actor, chat, name: String
    /// The status expected; 200 by default.
    public let expect: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        let watchers = runner.memberSockets(of: uuid).map { ($0.actor, $0.open.socket, $0.open.socket.count) }
        let response = try await person.client.request(.PATCH, "/api/chat/\(uuid)/", json: ["name": .string(name)])
        let expected = expect ?? 200
        runner.expect(response, expected, client: person.username, fields: expected == 200 ? ScenarioRunner.chatDetailFields : [])
        guard expected == 200, response.status == 200 else { return }
        for (watcher, socket, before) in watchers {
            let heard = await socket.next(after: before, timeout: runner.environment.settleTimeout) { frame in
                frame["command"] == "chat" && frame["event"] == "updated" && frame["chat"]?["uuid"]?.stringValue == uuid
                    && frame["chat"]?["name"]?.stringValue == name
            }
            if heard == nil { runner.contract(client: runner.username(watcher), "never heard that \(chat) was renamed '\(name)'") }
        }
    }
}

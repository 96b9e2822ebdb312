import ChatBackend

// Friends and chats: invite, accept or decline, create a group, add to a group.

/// `invite`: `from` invites `to` (`POST /api/user/friends/`).
public struct InviteStep: Sendable, Decodable {
    public let from, to: String
    /// The status expected; 201 by default.
    public let expect: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let from = try runner.person(from, "from"), to = try runner.person(to, "to")
        runner.expect(try await from.client.invite(userUUID: to.uuid), expect ?? 201, client: from.username)
    }
}

/// `accept` / `decline`: `actor` answers the invitation from `from`; an accepted one opens a
/// private chat, named `chat` for later steps.
public struct AnswerStep: Sendable, Decodable {
    public let actor, from: String
    public let chat: String?
    /// The status expected; 201 to accept, 200 to decline by default.
    public let expect: Int?

    func run(accepting accept: Bool, in runner: isolated ScenarioRunner) async throws {
        let invitee = try runner.person(actor, "actor"), inviter = try runner.person(from, "from")
        let id = try await invitee.account.invitation(from: inviter.account)
        let response = try await invitee.client.answerInvitation(id: id, accept: accept)
        runner.expect(response, expect ?? (accept ? 201 : 200), client: invitee.username, fields: accept ? ScenarioRunner.chatDetailFields : [])
        guard accept, response.status == 201, let uuid = response.body?["uuid"]?.stringValue else { return }
        if let chat { runner.chats[chat] = uuid }
        // A new private chat: both user sockets follow it at once.
        await runner.joined([from, actor], chat: uuid)
    }
}

/// `group`: `actor` creates a group chat called `name`, named `chat` for later steps.
public struct GroupStep: Sendable, Decodable {
    public let actor, chat, name: String
    /// The status expected; 201 by default.
    public let expect: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let owner = try runner.person(actor, "actor")
        let response = try await owner.client.createGroup(name: name)
        runner.expect(response, expect ?? 201, client: owner.username, fields: ScenarioRunner.chatDetailFields)
        if let uuid = response.body?["uuid"]?.stringValue {
            runner.chats[chat] = uuid
            await runner.joined([actor], chat: uuid)
        }
    }
}

/// `add`: `actor` adds `user` to the group `chat`.
public struct AddStep: Sendable, Decodable {
    public let actor, chat, user: String
    /// The status expected; 200 by default.
    public let expect: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let owner = try runner.person(actor, "actor"), user = try runner.person(user, "user")
        let uuid = try runner.chat(chat)
        let response = try await owner.client.addToChat(chatUUID: uuid, userUUID: user.uuid)
        runner.expect(response, expect ?? 200, client: owner.username)
        if response.status == 200 { await runner.joined([self.user], chat: uuid) }
    }
}

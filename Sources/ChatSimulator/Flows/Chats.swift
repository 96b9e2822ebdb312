extension Account {
    /// The id of this person's pending invitation from `inviter` (`GET /api/user/invitations/`).
    public func invitation(from inviter: Account) async throws -> Int64 {
        let list = try await client.invitations().expecting(200, "invitations")
        guard let id = list.body?.arrayValue?.first(where: { $0["first_user"]?.stringValue == inviter.username })?["id"]?.intValue else {
            throw FlowError(kind: "invitation missing", "\(username) has no invitation from \(inviter.username)")
        }
        return id
    }

    /// Invites `other`, who accepts: they are friends, and their private chat exists. Returns the
    /// private chat's uuid.
    @discardableResult
    public func befriend(_ other: Account) async throws -> String {
        _ = try await client.invite(userUUID: other.uuid).expecting(201, "invitation")
        let id = try await other.invitation(from: self)
        let accepted = try await other.client.answerInvitation(id: id, accept: true).expecting(201, "acceptance")
        guard let chat = accepted.body?["uuid"]?.stringValue else { throw FlowError("acceptance", accepted, lacking: ["uuid"]) }
        return chat
    }

    /// Befriends `other`, or finds they are friends already: the server refuses a second
    /// invitation (406) between people who are friends, or one of whom invited the other, as
    /// after a run before with the same users; a pending invitation is then accepted.
    public func befriendUnlessFriends(_ other: Account) async throws {
        let invited = try await client.invite(userUUID: other.uuid)
        if invited.status == 406 {
            if let id = try? await other.invitation(from: self) {
                _ = try await other.client.answerInvitation(id: id, accept: true).expecting(201, "acceptance")
            }
            return
        }
        _ = try invited.expecting(201, "invitation")
        let id = try await other.invitation(from: self)
        _ = try await other.client.answerInvitation(id: id, accept: true).expecting(201, "acceptance")
    }

    /// Creates a group chat and adds `members` (friends of this person) to it. Returns its uuid.
    public func createGroup(name: String, members: [Account] = []) async throws -> String {
        let created = try await client.createGroup(name: name).expecting(201, "group creation")
        guard let chat = created.body?["uuid"]?.stringValue else { throw FlowError("group creation", created, lacking: ["uuid"]) }
        for member in members {
            _ = try await client.addToChat(chatUUID: chat, userUUID: member.uuid).expecting(200, "add to chat")
        }
        return chat
    }

    /// Opens this person's socket on a chat (the token in `?token=`, or the session cookie);
    /// throws if it is refused.
    public func openSocket(chat: String, auth: SocketAuth = .token) async throws -> ChatSocket {
        try await ChatSocket(try socketEndpoint(chat: chat, auth: auth))
    }
}

/// Two friends, each with a socket on their private chat: the smallest conversation.
public struct FriendsOnSockets: Sendable {
    public let first: Account
    public let second: Account
    /// The uuid of their private chat.
    public let chat: String
    public let firstSocket: ChatSocket
    public let secondSocket: ChatSocket

    /// Befriends two people and opens a socket for each on their private chat.
    public init(_ first: Account, _ second: Account) async throws {
        self.first = first
        self.second = second
        chat = try await first.befriend(second)
        firstSocket = try await first.openSocket(chat: chat)
        secondSocket = try await second.openSocket(chat: chat)
    }
}

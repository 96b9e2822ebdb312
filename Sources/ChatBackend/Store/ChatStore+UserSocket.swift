import Foundation

/// A message with its chat's and its author's uuids: what a user socket's `message` frame names.
public struct DeliverableMessage: Sendable, Equatable {
    public var message: Message
    public var chatUUID: UUID
    public var authorUUID: UUID
}

/// What the user socket (`/ws/`) reads: every chat of a user at once, messages with their
/// authors' uuids, and the user's friends for presence.
extension ChatStore {
    /// The most chats a user socket follows; a user in more sees the newest this many.
    public static let userSocketChats = 10_000

    /// Every chat the user takes part in (up to ``userSocketChats``, newest activity first), with
    /// the user's read state in each.
    public func chatsWithReadStates(of userID: Int64) async throws -> [(chat: Chat, state: ChatReadState)] {
        let chats = try await self.chats(of: userID, kind: .all, limit: Self.userSocketChats, offset: 0).items
        let states = try await readStates(userID: userID, chatIDs: chats.map(\.id))
        return chats.map { ($0, states[$0.id] ?? ChatReadState(chatID: $0.id, lastSeq: $0.lastSeq)) }
    }

    /// Up to `limit` messages of a chat after `seq`, oldest first, with the uuids their frames name.
    public func deliverableMessages(chatID: Int64, afterSeq seq: Int64, limit: Int) async throws -> [DeliverableMessage] {
        let rows = try await database.read(
            """
            SELECT \(Self.messageColumns), c.uuid AS chat_uuid, u.uuid AS author_uuid
            FROM messages m JOIN chats c ON c.id = m.chat_id JOIN users u ON u.id = m.author_id
            WHERE m.chat_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?
            """,
            [.int(chatID), .int(seq), .int(Int64(limit))]
        )
        return try rows.map { row in
            DeliverableMessage(message: try Self.message(row), chatUUID: try Self.uuid(row, "chat_uuid"), authorUUID: try Self.uuid(row, "author_uuid"))
        }
    }

    /// The ids and uuids of the user's friends (accepted invitations either way), at most `limit`.
    public func friendIdentities(of userID: Int64, limit: Int = 10_000) async throws -> [(id: Int64, uuid: UUID)] {
        try await friends(of: userID, limit: limit, offset: 0).items.map { ($0.id, $0.uuid) }
    }
}

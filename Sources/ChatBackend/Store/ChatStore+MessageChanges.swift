/// Why the store refused to change a message.
public enum MessageChangeRefusal: Error, Equatable {
    /// No message with that id in that chat.
    case notFound
    /// The one asking does not take part in the chat.
    case notParticipant
    /// Only the author may edit; only the author or the group's creator may delete.
    case notPermitted
    /// The message was deleted: there is no text left to edit.
    case deleted
}

/// Edits and deletes: a message keeps its `seq` whatever happens to its content.
extension ChatStore {
    /// Replaces a message's content with its author's new text and stamps `edited_at`; returns the
    /// edited message. The chat's `lastmessage` follows when it showed this message.
    ///
    /// Throws ``MessageChangeRefusal``: only the author, while a participant, may edit, and a
    /// deleted message cannot be edited. The user socket's `edit` and `PATCH
    /// /api/chat/<uuid>/messages/<id>/` use this; the caller tells the participants (`edited`).
    public func editMessage(chatID: Int64, messageID: Int64, editorID: Int64, content: String) async throws -> Message {
        let now = clock()
        return try await database.transaction { [dialect = database.dialect] connection in
            let chat = try await Self.lockChat(chatID, for: editorID, on: connection, dialect: dialect)
            var message = try await Self.message(messageID, in: chatID, on: connection)
            guard chat.isParticipant else { throw MessageChangeRefusal.notParticipant }
            guard message.authorID == editorID else { throw MessageChangeRefusal.notPermitted }
            guard !message.deleted else { throw MessageChangeRefusal.deleted }
            _ = try await connection.query(
                "UPDATE messages SET content = ?, edited_at = ? WHERE id = ?", [.text(content), .int(now.microseconds), .int(messageID)]
            )
            try await Self.refreshLastMessage(chatID, on: connection)
            message.content = content
            message.editedAt = now
            return message
        }
    }

    /// Deletes a message, leaving a tombstone: its `seq` stays taken (no gap in the history), its
    /// content becomes empty and it reads `"deleted": true`. Returns the tombstone; deleting a
    /// tombstone again changes nothing and returns it.
    ///
    /// Throws ``MessageChangeRefusal``: the author or the group's creator may delete, while a
    /// participant. The user socket's `delete` and `DELETE /api/chat/<uuid>/messages/<id>/` use
    /// this; the caller tells the participants (`deleted`).
    public func deleteMessage(chatID: Int64, messageID: Int64, deleterID: Int64) async throws -> Message {
        try await database.transaction { [dialect = database.dialect] connection in
            let chat = try await Self.lockChat(chatID, for: deleterID, on: connection, dialect: dialect)
            var message = try await Self.message(messageID, in: chatID, on: connection)
            guard chat.isParticipant else { throw MessageChangeRefusal.notParticipant }
            guard message.authorID == deleterID || chat.creatorID == deleterID else { throw MessageChangeRefusal.notPermitted }
            guard !message.deleted else { return message }
            _ = try await connection.query("UPDATE messages SET content = '', deleted = 1 WHERE id = ?", [.int(messageID)])
            try await Self.refreshLastMessage(chatID, on: connection)
            message.content = ""
            message.deleted = true
            return message
        }
    }

    /// What a change needs to know of the chat, read under its row lock (PostgreSQL), so that a
    /// batch of new messages and the change to `lastmessage` come one after the other.
    private struct LockedChat {
        let creatorID: Int64?
        let isParticipant: Bool
    }

    private static func lockChat(
        _ chatID: Int64, for userID: Int64, on connection: any SQLConnection, dialect: SQLDialect
    ) async throws -> LockedChat {
        let lock = dialect.locksRowsForUpdate ? " FOR UPDATE" : ""
        let rows = try await connection.query(
            "SELECT creator_id FROM chats WHERE id = ?\(lock)", [.int(chatID)]
        )
        guard let row = rows.first else { throw MessageChangeRefusal.notFound }
        let member = try await connection.query(
            "SELECT 1 AS yes FROM chat_participants WHERE chat_id = ? AND user_id = ?", [.int(chatID), .int(userID)]
        )
        return LockedChat(creatorID: try row.optionalInt("creator_id"), isParticipant: !member.isEmpty)
    }

    private static func message(_ messageID: Int64, in chatID: Int64, on connection: any SQLConnection) async throws -> Message {
        let rows = try await connection.query(
            "SELECT \(messageColumns) FROM messages m WHERE m.id = ? AND m.chat_id = ?", [.int(messageID), .int(chatID)]
        )
        guard let row = rows.first else { throw MessageChangeRefusal.notFound }
        return try message(row)
    }

    /// The chat's `lastmessage` is its newest message's content; after an edit or a delete, that
    /// is the newest message that is not deleted (null when there is none).
    static func refreshLastMessage(_ chatID: Int64, on connection: any SQLConnection) async throws {
        _ = try await connection.query(
            """
            UPDATE chats SET last_message = (
                SELECT content FROM messages WHERE chat_id = ? AND deleted = 0 ORDER BY seq DESC LIMIT 1
            ) WHERE id = ?
            """,
            [.int(chatID), .int(chatID)]
        )
    }
}

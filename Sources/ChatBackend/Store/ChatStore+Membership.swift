/// Why the store refused a change of a chat's members or name.
public enum MembershipRefusal: Error, Equatable {
    /// No such chat.
    case notFound
    /// A private chat's two members and name are fixed.
    case notGroup
    /// Only the group's creator, while a participant, may remove members.
    case notCreator
    /// The user is not in the chat.
    case notParticipant
}

/// Leaving a group, removing a member, renaming a group.
extension ChatStore {
    /// Takes a user out of a group chat, with their read marker. The group's creator may leave
    /// too; the creator's rights then lapse with their membership.
    ///
    /// Throws ``MembershipRefusal``. The caller stops the user's live delivery of the chat and
    /// tells the participants (`chat` event).
    public func leaveChat(chatID: Int64, userID: Int64) async throws {
        try await database.transaction { connection in
            let chat = try await Self.groupRow(chatID, on: connection)
            guard chat.isGroup else { throw MembershipRefusal.notGroup }
            guard try await Self.deleteParticipant(userID, chatID, on: connection) else { throw MembershipRefusal.notParticipant }
        }
    }

    /// The group's creator takes `userID` out of the group (themselves included: that is leaving).
    ///
    /// Throws ``MembershipRefusal``: only the creator, while a participant, may remove; a user who
    /// is not in the chat is ``MembershipRefusal/notParticipant``.
    public func removeParticipant(chatID: Int64, userID: Int64, removerID: Int64) async throws {
        try await database.transaction { connection in
            let chat = try await Self.groupRow(chatID, on: connection)
            guard chat.isGroup else { throw MembershipRefusal.notGroup }
            let removerTakesPart = try await !connection.query(
                "SELECT 1 AS yes FROM chat_participants WHERE chat_id = ? AND user_id = ?", [.int(chatID), .int(removerID)]
            ).isEmpty
            guard chat.creatorID == removerID, removerTakesPart else { throw MembershipRefusal.notCreator }
            guard try await Self.deleteParticipant(userID, chatID, on: connection) else { throw MembershipRefusal.notParticipant }
        }
    }

    /// Gives a group chat a new name; returns the renamed chat. Any participant may rename (the
    /// caller checks participation); a private chat has no name to change.
    public func renameChat(chatID: Int64, name: String) async throws -> Chat {
        try await database.transaction { connection in
            let chat = try await Self.groupRow(chatID, on: connection)
            guard chat.isGroup else { throw MembershipRefusal.notGroup }
            _ = try await connection.query("UPDATE chats SET name = ? WHERE id = ?", [.text(name), .int(chatID)])
            return try await Self.groupRow(chatID, on: connection)
        }
    }

    private static func groupRow(_ chatID: Int64, on connection: any SQLConnection) async throws -> Chat {
        let rows = try await connection.query("SELECT \(chatColumns) FROM chats c WHERE c.id = ?", [.int(chatID)])
        guard let row = rows.first else { throw MembershipRefusal.notFound }
        return try chat(row)
    }

    /// Deletes a membership and its read marker; false when there was none.
    private static func deleteParticipant(_ userID: Int64, _ chatID: Int64, on connection: any SQLConnection) async throws -> Bool {
        let deleted = try await connection.query(
            "DELETE FROM chat_participants WHERE chat_id = ? AND user_id = ? RETURNING user_id", [.int(chatID), .int(userID)]
        )
        _ = try await connection.query("DELETE FROM chat_reads WHERE chat_id = ? AND user_id = ?", [.int(chatID), .int(userID)])
        return !deleted.isEmpty
    }
}

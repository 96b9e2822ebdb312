import Foundation

/// Chats and their participants.
extension ChatStore {
    /// A user's chats of one kind, newest activity first.
    public func chats(of userID: Int64, kind: ChatKind, limit: Int, offset: Int) async throws -> Page<Chat> {
        var condition = "c.id IN (SELECT chat_id FROM chat_participants WHERE user_id = ?)"
        switch kind {
        case .all: break
        case .private: condition += " AND c.is_group = 0"
        case .groups: condition += " AND c.is_group = 1"
        }
        let total = try Self.count(
            await database.read("SELECT COUNT(*) AS n FROM chats c WHERE \(condition)", [.int(userID)])
        )
        let rows = try await database.read(
            "SELECT \(Self.chatColumns) FROM chats c WHERE \(condition) ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ? OFFSET ?",
            [.int(userID), .int(Int64(limit)), .int(Int64(offset))]
        )
        return Page(items: try rows.map(Self.chat), total: total)
    }

    /// Creates a group chat with its creator as first participant.
    public func createGroupChat(name: String, creatorID: Int64) async throws -> Chat {
        let now = clock()
        return try await database.transaction { connection in
            try await Self.insertChat(on: connection, name: name, isGroup: true, participants: [creatorID], at: now)
        }
    }

    static func insertChat(
        on connection: any SQLConnection, name: String?, isGroup: Bool, participants: [Int64], at now: Timestamp
    ) async throws -> Chat {
        let rows = try await connection.query(
            """
            INSERT INTO chats (uuid, name, is_group, last_activity_at, last_message, created_at, creator_id)
            VALUES (?, ?, ?, ?, NULL, ?, ?)
            RETURNING id, uuid, name, is_group, last_activity_at, last_message, last_seq, creator_id
            """,
            [
                .text(UUID().text), name.map(SQLValue.text) ?? .null, .int(isGroup ? 1 : 0), .int(now.microseconds), .int(now.microseconds),
                // A group's creator is its first participant; a private chat has none.
                isGroup ? participants.first.map(SQLValue.int) ?? .null : .null,
            ]
        )
        guard let row = rows.first else { throw SQLRowError.unexpectedValue("id") }
        let chat = try Self.chat(row)
        for userID in Set(participants) {
            _ = try await connection.query(
                "INSERT INTO chat_participants (chat_id, user_id) VALUES (?, ?)", [.int(chat.id), .int(userID)]
            )
        }
        return chat
    }

    /// The chat with this public id, if any.
    public func chat(uuid: UUID) async throws -> Chat? {
        try await database.read("SELECT \(Self.chatColumns) FROM chats c WHERE c.uuid = ?", [.text(uuid.text)])
            .first.map(Self.chat)
    }

    /// Whether a user takes part in a chat.
    public func isParticipant(userID: Int64, chatID: Int64) async throws -> Bool {
        try await !database.read(
            "SELECT 1 AS yes FROM chat_participants WHERE chat_id = ? AND user_id = ?", [.int(chatID), .int(userID)]
        ).isEmpty
    }

    /// The public ids of a chat's participants, in the order they joined.
    public func participantUUIDs(chatID: Int64) async throws -> [UUID] {
        try await database.read(
            "SELECT u.uuid FROM chat_participants p JOIN users u ON u.id = p.user_id WHERE p.chat_id = ? ORDER BY p.id",
            [.int(chatID)]
        ).compactMap { UUID(uuidString: try $0.string("uuid")) }
    }

    /// Adds a user to a chat; false when they were a participant already.
    public func addParticipant(userID: Int64, chatID: Int64) async throws -> Bool {
        do {
            return try await insertParticipant(userID: userID, chatID: chatID)
        } catch is SQLUniqueViolation {
            return false
        }
    }

    private func insertParticipant(userID: Int64, chatID: Int64) async throws -> Bool {
        try await database.transaction { connection in
            let existing = try await connection.query(
                "SELECT 1 AS yes FROM chat_participants WHERE chat_id = ? AND user_id = ?", [.int(chatID), .int(userID)]
            )
            guard existing.isEmpty else { return false }
            _ = try await connection.query(
                "INSERT INTO chat_participants (chat_id, user_id) VALUES (?, ?)", [.int(chatID), .int(userID)]
            )
            return true
        }
    }
}

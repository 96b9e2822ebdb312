import Foundation

/// Messages: written once, read back a page at a time.
extension ChatStore {
    /// Stores a message and makes it its chat's latest activity, atomically; then, still holding
    /// the chat's lock (respected by every node), runs `publish`. So every node commits and
    /// publishes a chat's messages in one order, and a message is never published before it is stored.
    ///
    /// Time stamps never go backwards within a chat, even across nodes whose clocks differ, so
    /// the history's order (time stamp, id) is the commit order.
    public func addMessage(
        chatID: Int64, authorID: Int64, content: String, publish: @escaping @Sendable (Message) async -> Void
    ) async throws -> Message {
        let now = clock()
        let greatest = database.dialect.greatest
        return try await database.withExclusiveConnection(lockKey: chatID) { connection in
            let message = try await connection.inTransaction {
                let rows = try await connection.query(
                    """
                    INSERT INTO messages (chat_id, author_id, content, time_stamp)
                    VALUES (?, ?, ?, \(greatest)(?, COALESCE((SELECT MAX(time_stamp) FROM messages WHERE chat_id = ?), 0)))
                    RETURNING id, chat_id, author_id, content, time_stamp
                    """,
                    [.int(chatID), .int(authorID), .text(content), .int(now.microseconds), .int(chatID)]
                )
                guard let row = rows.first else { throw SQLRowError.unexpectedValue("id") }
                let message = try Self.message(row)
                _ = try await connection.query(
                    "UPDATE chats SET last_activity_at = ?, last_message = ? WHERE id = ?",
                    [.int(message.timeStamp.microseconds), .text(content), .int(chatID)]
                )
                return message
            }
            await publish(message)
            return message
        }
    }

    /// Up to `limit` messages of a chat older than `cursor` (all when nil), newest first.
    public func messages(chatID: Int64, before cursor: HistoryCursor?, limit: Int) async throws -> [Message] {
        var condition = "m.chat_id = ?"
        var binds: [SQLValue] = [.int(chatID)]
        switch (cursor?.timeStamp, cursor?.messageID) {
        case (let stamp?, let id?):
            condition += " AND (m.time_stamp < ? OR (m.time_stamp = ? AND m.id < ?))"
            binds += [.int(stamp.microseconds), .int(stamp.microseconds), .int(id)]
        case (let stamp?, nil):
            condition += " AND m.time_stamp < ?"
            binds.append(.int(stamp.microseconds))
        default:
            break
        }
        let rows = try await database.query(
            "SELECT \(Self.messageColumns) FROM messages m WHERE \(condition) ORDER BY m.time_stamp DESC, m.id DESC LIMIT ?",
            binds + [.int(Int64(limit))]
        )
        return try rows.map(Self.message)
    }

    /// Messages of a chat containing `phrase` (case-insensitive), newest first.
    public func searchMessages(chatID: Int64, phrase: String, limit: Int, offset: Int) async throws -> Page<Message> {
        let condition = "m.chat_id = ? AND m.content \(database.dialect.caseInsensitiveLike) ? ESCAPE '\\'"
        let binds: [SQLValue] = [.int(chatID), .text(Self.containsPattern(phrase))]
        let total = try Self.count(await database.query("SELECT COUNT(*) AS n FROM messages m WHERE \(condition)", binds))
        let rows = try await database.query(
            "SELECT \(Self.messageColumns) FROM messages m WHERE \(condition) ORDER BY m.time_stamp DESC, m.id DESC LIMIT ? OFFSET ?",
            binds + [.int(Int64(limit)), .int(Int64(offset))]
        )
        return Page(items: try rows.map(Self.message), total: total)
    }
}

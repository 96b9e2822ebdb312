import Foundation

/// Messages: written once, read back a page at a time.
extension ChatStore {
    /// Stores a message with its chat's next `seq` and makes it the chat's latest activity,
    /// atomically; then, still holding the chat's lock (respected by every node), runs `publish`. So
    /// every node commits and publishes a chat's messages in one order, and a message is never
    /// published before it is stored.
    ///
    /// The `seq` comes from the chat's row, updated in the message's transaction: a rolled-back
    /// message gives its number back, so the numbers have no gap; the row lock (PostgreSQL) or the
    /// single writer (SQLite) keeps two senders from taking the same one. Time stamps never go
    /// backwards within a chat, even across nodes whose clocks differ, so the order (time stamp, id)
    /// is the `seq` order too.
    public func addMessage(
        chatID: Int64, authorID: Int64, content: String, publish: @escaping @Sendable (Message) async -> Void
    ) async throws -> Message {
        let now = clock()
        let greatest = database.dialect.greatest
        return try await database.withExclusiveConnection(lockKey: chatID) { connection in
            let message = try await connection.inTransaction {
                let position = try await connection.query(
                    """
                    UPDATE chats SET last_seq = last_seq + 1, last_message = ?,
                        last_activity_at = \(greatest)(?, COALESCE((SELECT MAX(time_stamp) FROM messages WHERE chat_id = ?), 0))
                    WHERE id = ?
                    RETURNING last_seq, last_activity_at
                    """,
                    [.text(content), .int(now.microseconds), .int(chatID), .int(chatID)]
                )
                guard let chat = position.first else { throw SQLRowError.unexpectedValue("last_seq") }
                let rows = try await connection.query(
                    """
                    INSERT INTO messages (chat_id, seq, author_id, content, time_stamp) VALUES (?, ?, ?, ?, ?)
                    RETURNING id, chat_id, seq, author_id, content, time_stamp
                    """,
                    [.int(chatID), .int(try chat.int("last_seq")), .int(authorID), .text(content), .int(try chat.int("last_activity_at"))]
                )
                guard let row = rows.first else { throw SQLRowError.unexpectedValue("id") }
                return try Self.message(row)
            }
            await publish(message)
            return message
        }
    }

    /// Up to `limit` messages of a chat older than `cursor` (all when nil), newest first.
    public func messages(chatID: Int64, before cursor: HistoryCursor?, limit: Int) async throws -> [Message] {
        var condition = "m.chat_id = ?"
        var binds: [SQLValue] = [.int(chatID)]
        // Both orders are the seq order; each cursor reads the index its condition can seek in.
        var order = "m.seq DESC"
        switch cursor {
        case nil:
            break
        case .seq(let seq)?:
            condition += " AND m.seq < ?"
            binds.append(.int(seq))
        case .timeStamp(let stamp, let id?)?:
            condition += " AND (m.time_stamp < ? OR (m.time_stamp = ? AND m.id < ?))"
            binds += [.int(stamp.microseconds), .int(stamp.microseconds), .int(id)]
            order = "m.time_stamp DESC, m.id DESC"
        case .timeStamp(let stamp, nil)?:
            condition += " AND m.time_stamp < ?"
            binds.append(.int(stamp.microseconds))
            order = "m.time_stamp DESC, m.id DESC"
        }
        let rows = try await database.query(
            "SELECT \(Self.messageColumns) FROM messages m WHERE \(condition) ORDER BY \(order) LIMIT ?",
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
            "SELECT \(Self.messageColumns) FROM messages m WHERE \(condition) ORDER BY m.seq DESC LIMIT ? OFFSET ?",
            binds + [.int(Int64(limit)), .int(Int64(offset))]
        )
        return Page(items: try rows.map(Self.message), total: total)
    }
}

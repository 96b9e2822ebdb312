import Foundation

/// Messages: written once, read back a page at a time.
extension ChatStore {
    /// Stores a message with its chat's next `seq` and makes it the chat's latest activity, then
    /// runs `publish` with it, in the chat's commit order, before returning it. A message is never
    /// published before it is stored.
    ///
    /// Messages sent at the same time are committed together (``MessageWriter``). The `seq` comes
    /// from the chat's row, updated in the message's transaction: a rolled-back message gives its
    /// number back, so the numbers have no gap. Time stamps grow with `seq` within a chat, even
    /// across nodes whose clocks differ, so the order (time stamp, id) is the `seq` order too.
    public func addMessage(
        chatID: Int64, authorID: Int64, content: String, publish: @escaping @Sendable (Message) async -> Void
    ) async throws -> Message {
        try await messageWriter.store(chatID: chatID, authorID: authorID, content: content, publish: publish)
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
        let rows = try await database.read(
            "SELECT \(Self.messageColumns) FROM messages m WHERE \(condition) ORDER BY \(order) LIMIT ?",
            binds + [.int(Int64(limit))]
        )
        return try rows.map(Self.message)
    }

    /// Up to `limit` messages of a chat after `seq`, oldest first: what a node missed, or a client
    /// resuming from a position.
    public func messages(chatID: Int64, afterSeq seq: Int64, limit: Int) async throws -> [Message] {
        let rows = try await database.read(
            "SELECT \(Self.messageColumns) FROM messages m WHERE m.chat_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
            [.int(chatID), .int(seq), .int(Int64(limit))]
        )
        return try rows.map(Self.message)
    }

    /// Messages of a chat containing `phrase` (case-insensitive), newest first.
    public func searchMessages(chatID: Int64, phrase: String, limit: Int, offset: Int) async throws -> Page<Message> {
        let condition = "m.chat_id = ? AND m.content \(database.dialect.caseInsensitiveLike) ? ESCAPE '\\'"
        let binds: [SQLValue] = [.int(chatID), .text(Self.containsPattern(phrase))]
        let total = try Self.count(await database.read("SELECT COUNT(*) AS n FROM messages m WHERE \(condition)", binds))
        let rows = try await database.read(
            "SELECT \(Self.messageColumns) FROM messages m WHERE \(condition) ORDER BY m.seq DESC LIMIT ? OFFSET ?",
            binds + [.int(Int64(limit)), .int(Int64(offset))]
        )
        return Page(items: try rows.map(Self.message), total: total)
    }
}

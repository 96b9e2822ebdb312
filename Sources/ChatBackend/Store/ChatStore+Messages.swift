import Foundation

/// What a send got: its message, and whether this send stored it (false for a retry, which gets
/// the first send's message and must not be published again).
public struct StoredMessage: Sendable, Equatable {
    public var message: Message
    public var isNew: Bool
}

/// Messages: written once (then maybe edited or deleted by their author), read back a page at a time.
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
        try await messageWriter.store(chatID: chatID, authorID: authorID, content: content, clientID: nil, publish: publish).message
    }

    /// Stores a message as ``addMessage(chatID:authorID:content:publish:)`` does, idempotently:
    /// (author, chat, `clientID`) is the send's key. The first send with a key stores the message
    /// and publishes it (`isNew`); a retry with the same key, whatever its content, stores nothing,
    /// publishes nothing, and gets the first message back (same id, seq and time stamp). Keys are
    /// kept as long as their messages, so a retry is recognised for at least the 24 hours the
    /// protocol promises. The user socket's `send` and `POST /api/chat/<uuid>/messages/` use this.
    public func addMessage(
        chatID: Int64, authorID: Int64, content: String, clientID: String, publish: @escaping @Sendable (Message) async -> Void
    ) async throws -> StoredMessage {
        try await messageWriter.store(chatID: chatID, authorID: authorID, content: content, clientID: clientID, publish: publish)
    }

    /// Stores several messages at once, queued in this order: a socket's sends that came together
    /// are stored together (usually one transaction) instead of each waiting for the one before
    /// to commit. Each is stored as the one-message forms store it (idempotently when it has a
    /// client id); the results come in the same order, once all are done.
    func addMessages(_ sends: [MessageWriter.Send]) async -> [Result<StoredMessage, any Error>] {
        await messageWriter.store(sends)
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

    /// Messages of a chat matching `phrase` on the database's full-text index, best match first
    /// (then newest first), with the total for pagination.
    ///
    /// The phrase matches its words in order, the last word as a prefix (`hel` finds `hello`),
    /// case-insensitively; punctuation separates words. Deleted messages are never found. A phrase
    /// with no letter or digit finds nothing.
    public func searchMessages(chatID: Int64, phrase: String, limit: Int, offset: Int) async throws -> Page<Message> {
        guard phrase.contains(where: { $0.isLetter || $0.isNumber }) else { return Page(items: [], total: 0) }
        let search = MessageSearch(dialect: database.dialect, phrase: phrase, chatID: chatID)
        let total = try Self.count(await database.read("SELECT COUNT(*) AS n FROM \(search.from) WHERE \(search.condition)", search.binds))
        guard total > offset else { return Page(items: [], total: total) }
        let rows = try await database.read(
            "SELECT \(Self.messageColumns) FROM \(search.from) WHERE \(search.condition) ORDER BY \(search.rank), m.seq DESC LIMIT ? OFFSET ?",
            search.binds + [.int(Int64(limit)), .int(Int64(offset))]
        )
        return Page(items: try rows.map(Self.message), total: total)
    }
}

/// The full-text query of a message search, in the database's own kind. The phrase is passed as
/// a bound value and quoted by the database's own rules, so no input is read as query syntax.
private struct MessageSearch {
    let from: String
    let condition: String
    /// The ORDER BY term putting the best match first.
    let rank: String
    let binds: [SQLValue]

    init(dialect: SQLDialect, phrase: String, chatID: Int64) {
        switch dialect.fullTextIndex {
        case .fts5:
            // One FTS5 string is one phrase: its words in order; `*` after it makes the last a prefix.
            let query = "\"" + phrase.replacingOccurrences(of: "\"", with: "\"\"") + "\" *"
            from = "messages_search JOIN messages m ON m.id = messages_search.rowid"
            condition = "messages_search MATCH ? AND m.chat_id = ? AND m.deleted = 0"
            rank = "bm25(messages_search)"  // lower is better
            binds = [.text(query), .int(chatID)]
        case .tsvector:
            // The phrase's words in order (`<->`), the last one a prefix (`:*`); an empty query
            // (NULLIF) matches nothing instead of failing.
            let query = "to_tsquery('simple', NULLIF(phraseto_tsquery('simple', ?)::text, '') || ':*')"
            from = "messages m, \(query) AS q"
            condition = "to_tsvector('simple', m.content) @@ q AND m.chat_id = ? AND m.deleted = 0"
            rank = "ts_rank(to_tsvector('simple', m.content), q) DESC"
            binds = [.text(phrase), .int(chatID)]
        }
    }
}

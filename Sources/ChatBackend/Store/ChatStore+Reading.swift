/// Why the store refused to move a read marker.
public enum ReadMarkerRefusal: Error, Equatable {
    /// The user does not take part in the chat.
    case notParticipant
    /// The chat has no message with that `seq` yet: its newest is `lastSeq`.
    case beyondLastSeq(lastSeq: Int64)
}

/// Read markers and unread counts.
extension ChatStore {
    /// Moves the user's read marker in a chat forward to `seq`, never back (a lower `seq` changes
    /// nothing); returns the user's state in the chat afterwards.
    ///
    /// Throws ``ReadMarkerRefusal``: a `seq` beyond the chat's newest is an error. The user
    /// socket's `read` and `POST /api/chat/<uuid>/read/` use this; the caller tells the
    /// participants (`read`) when `readSeq` moved.
    public func markRead(chatID: Int64, userID: Int64, seq: Int64) async throws -> ChatReadState {
        try await database.transaction { [dialect = database.dialect] connection in
            let lastSeq = try await connection.query(
                """
                SELECT c.last_seq FROM chats c JOIN chat_participants p ON p.chat_id = c.id AND p.user_id = ?
                WHERE c.id = ?
                """,
                [.int(userID), .int(chatID)]
            ).first?.int("last_seq")
            guard let lastSeq else { throw ReadMarkerRefusal.notParticipant }
            guard seq <= lastSeq else { throw ReadMarkerRefusal.beyondLastSeq(lastSeq: lastSeq) }
            _ = try await connection.query(
                """
                INSERT INTO chat_reads (chat_id, user_id, read_seq) VALUES (?, ?, ?)
                ON CONFLICT (chat_id, user_id) DO UPDATE SET read_seq = \(dialect.greatest)(chat_reads.read_seq, excluded.read_seq)
                """,
                [.int(chatID), .int(userID), .int(max(seq, 0))]
            )
            let states = try await Self.readStates(userID: userID, chatIDs: [chatID], on: connection)
            guard let state = states[chatID] else { throw ReadMarkerRefusal.notParticipant }
            return state
        }
    }

    /// The user's state in each of `chatIDs` (their newest `seq`, the user's read marker, and the
    /// unread count: messages after the marker, not the user's own, not deleted), in one query
    /// for a whole page of chats. A chat that does not exist is left out.
    ///
    /// The chat JSON of every REST route uses this, and the user socket's `hello` can too.
    public func readStates(userID: Int64, chatIDs: [Int64]) async throws -> [Int64: ChatReadState] {
        guard !chatIDs.isEmpty else { return [:] }
        return try await database.withReadConnection { connection in
            try await Self.readStates(userID: userID, chatIDs: chatIDs, on: connection)
        }
    }

    /// The user's state in one chat (a new chat's, when it does not exist).
    public func readState(userID: Int64, chatID: Int64) async throws -> ChatReadState {
        try await readStates(userID: userID, chatIDs: [chatID])[chatID] ?? ChatReadState(chatID: chatID, lastSeq: 0)
    }

    /// Counting reads the history index `(chat_id, seq)` from the marker on: the cost is the
    /// number of messages after the marker, not the chat's length.
    private static func readStates(userID: Int64, chatIDs: [Int64], on connection: any SQLConnection) async throws -> [Int64: ChatReadState] {
        let placeholders = Array(repeating: "?", count: chatIDs.count).joined(separator: ", ")
        let rows = try await connection.query(
            """
            SELECT c.id, c.last_seq, COALESCE(r.read_seq, 0) AS read_seq,
                (SELECT COUNT(*) FROM messages m
                    WHERE m.chat_id = c.id AND m.seq > COALESCE(r.read_seq, 0) AND m.author_id <> ? AND m.deleted = 0) AS unread
            FROM chats c LEFT JOIN chat_reads r ON r.chat_id = c.id AND r.user_id = ?
            WHERE c.id IN (\(placeholders))
            """,
            [.int(userID), .int(userID)] + chatIDs.map(SQLValue.int)
        )
        var states: [Int64: ChatReadState] = [:]
        for row in rows {
            let chatID = try row.int("id")
            states[chatID] = ChatReadState(
                chatID: chatID, lastSeq: try row.int("last_seq"), readSeq: try row.int("read_seq"), unread: try row.int("unread")
            )
        }
        return states
    }
}

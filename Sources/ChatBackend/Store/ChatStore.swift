import Foundation

/// Everything the server remembers, behind plain methods: routes and sockets never see SQL.
///
/// One implementation serves both dialects; ``SQLDatabase`` hides the driver and ``SQLDialect``
/// the few spellings that differ.
public struct ChatStore: Sendable {
    let database: any SQLDatabase
    let clock: @Sendable () -> Timestamp
    /// Stores messages in batches; shared by every copy of this store.
    let messageWriter: MessageWriter

    /// Creates a store over `database`; `clock` stamps messages and activity (tests fix it).
    public init(database: any SQLDatabase, clock: @escaping @Sendable () -> Timestamp = { .now }) {
        self.database = database
        self.clock = clock
        self.messageWriter = MessageWriter(database: database, clock: clock)
    }
}

/// A change the store refused because of what is already stored.
public enum StoreConflict: Error, Equatable {
    case emailTaken
    case usernameTaken
    case contactExists
}

// MARK: - Row decoding, shared by every query that selects these columns

extension ChatStore {
    static let userColumns = "u.id, u.uuid, u.email, u.username, u.password_hash, u.email_verified, u.is_active"
    static let chatColumns = "c.id, c.uuid, c.name, c.is_group, c.last_activity_at, c.last_message, c.last_seq, c.creator_id"
    static let messageColumns = "m.id, m.chat_id, m.seq, m.author_id, m.content, m.time_stamp, m.client_id, m.edited_at, m.deleted"

    static func user(_ row: SQLRow) throws -> User {
        User(
            id: try row.int("id"),
            uuid: try uuid(row, "uuid"),
            email: try row.string("email"),
            username: try row.string("username"),
            passwordHash: try row.optionalString("password_hash"),
            emailVerified: try row.bool("email_verified"),
            isActive: try row.bool("is_active")
        )
    }

    static func chat(_ row: SQLRow) throws -> Chat {
        Chat(
            id: try row.int("id"),
            uuid: try uuid(row, "uuid"),
            name: try row.optionalString("name"),
            isGroup: try row.bool("is_group"),
            lastActivity: Timestamp(microseconds: try row.int("last_activity_at")),
            lastMessage: try row.optionalString("last_message"),
            lastSeq: try row.int("last_seq"),
            creatorID: try row.optionalInt("creator_id")
        )
    }

    static func message(_ row: SQLRow) throws -> Message {
        Message(
            id: try row.int("id"),
            chatID: try row.int("chat_id"),
            seq: try row.int("seq"),
            authorID: try row.int("author_id"),
            content: try row.string("content"),
            timeStamp: Timestamp(microseconds: try row.int("time_stamp")),
            clientID: try row.optionalString("client_id"),
            editedAt: try row.optionalInt("edited_at").map(Timestamp.init(microseconds:)),
            deleted: try row.bool("deleted")
        )
    }

    static func uuid(_ row: SQLRow, _ column: String) throws -> UUID {
        guard let uuid = UUID(uuidString: try row.string(column)) else { throw SQLRowError.unexpectedValue(column) }
        return uuid
    }

    /// The `COUNT(*)` of a query's single row.
    static func count(_ rows: [SQLRow]) throws -> Int {
        Int(try rows.first?.int("n") ?? 0)
    }

    /// A `LIKE` pattern matching `phrase` anywhere, with its wildcards escaped (use `ESCAPE '\'`).
    static func containsPattern(_ phrase: String) -> String {
        var escaped = ""
        for character in phrase {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }
}

extension ChatStore {
    /// Whether the database answers a trivial query within `timeout` (readiness checks).
    public func isReachable(within timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [database] in (try? await database.query("SELECT 1")) != nil }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
    }
}

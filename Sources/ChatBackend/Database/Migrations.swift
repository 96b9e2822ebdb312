import Logging

/// One step of the schema, known by its name, applied once and recorded in `applied_migrations`.
struct Migration: Sendable {
    /// The step's name, recorded once applied; never renamed once shipped.
    let name: String
    /// The statements, run in one transaction.
    let statements: [String]
}

/// The schema, as named steps applied once each, in order.
///
/// Steps are written once for both dialects; only the spellings of ``SQLDialect`` differ.
/// Dates are integer microseconds, UUIDs lowercase text, booleans 0 or 1.
public enum Migrations {
    /// Every step, oldest first. Append; never edit or rename a step that has shipped.
    static func steps(_ dialect: SQLDialect) -> [Migration] {
        let id = dialect.autoIncrementPrimaryKey
        return [
            Migration(name: "0001_initial", statements: [
                """
                CREATE TABLE users (
                    id \(id),
                    uuid TEXT NOT NULL UNIQUE,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL UNIQUE,
                    username TEXT NOT NULL,
                    username_key TEXT NOT NULL UNIQUE,
                    password_hash TEXT,
                    email_verified INTEGER NOT NULL DEFAULT 0,
                    is_active INTEGER NOT NULL DEFAULT 1,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE auth_tokens (
                    id \(id),
                    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    key_hash TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX auth_tokens_user ON auth_tokens(user_id)",
                """
                CREATE TABLE email_confirmations (
                    id \(id),
                    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    key_hash TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE contacts (
                    id \(id),
                    inviter_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    invitee_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    accepted INTEGER NOT NULL DEFAULT 0,
                    created_at BIGINT NOT NULL,
                    UNIQUE (inviter_id, invitee_id)
                )
                """,
                "CREATE INDEX contacts_invitee ON contacts(invitee_id)",
                """
                CREATE TABLE chats (
                    id \(id),
                    uuid TEXT NOT NULL UNIQUE,
                    name TEXT,
                    is_group INTEGER NOT NULL,
                    last_activity_at BIGINT NOT NULL,
                    last_message TEXT,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE chat_participants (
                    id \(id),
                    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
                    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    UNIQUE (chat_id, user_id)
                )
                """,
                "CREATE INDEX chat_participants_user ON chat_participants(user_id)",
                """
                CREATE TABLE messages (
                    id \(id),
                    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
                    author_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    content TEXT NOT NULL,
                    time_stamp BIGINT NOT NULL
                )
                """,
                "CREATE INDEX messages_history ON messages(chat_id, time_stamp, id)",
            ]),
            Migration(name: "0002_google_subject", statements: [
                // Google sign-in: the account's stable Google id, once linked.
                "ALTER TABLE users ADD COLUMN google_subject TEXT",
                "CREATE UNIQUE INDEX users_google_subject ON users(google_subject)",
            ]),
            Migration(name: "0003_message_seq", statements: [
                // Each message's position in its chat, and each chat's latest: a sender takes the
                // next one from its chat's row, in the transaction that stores the message. The
                // default only fills existing rows until the back-fill below; every insert names it.
                "ALTER TABLE messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0",
                "ALTER TABLE chats ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0",
                // Existing messages in their history's order, (time stamp, id). UPDATE … FROM and
                // window functions are spelled alike by PostgreSQL and SQLite (3.33 and later).
                """
                UPDATE messages SET seq = numbered.seq
                FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY chat_id ORDER BY time_stamp, id) AS seq FROM messages) AS numbered
                WHERE messages.id = numbered.id
                """,
                "UPDATE chats SET last_seq = COALESCE((SELECT MAX(seq) FROM messages WHERE messages.chat_id = chats.id), 0)",
                // Also the history's index in seq order.
                "CREATE UNIQUE INDEX messages_seq ON messages(chat_id, seq)",
            ]),
            Migration(name: "0004_sends_edits_reads_search", statements: [
                // A send's idempotency key is (author, chat, client_id): a retry finds the first
                // send through this index, and two racing inserts cannot both succeed.
                "ALTER TABLE messages ADD COLUMN client_id TEXT",
                "CREATE UNIQUE INDEX messages_client_id ON messages(chat_id, author_id, client_id) WHERE client_id IS NOT NULL",
                // Edits keep the message's seq; a delete leaves a tombstone (empty, deleted = 1)
                // so the seq stays taken and the history has no gap.
                "ALTER TABLE messages ADD COLUMN edited_at BIGINT",
                "ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0",
                // A group's creator may remove members and delete others' messages. Groups made
                // before had their creator added first: the earliest participant row.
                "ALTER TABLE chats ADD COLUMN creator_id BIGINT REFERENCES users(id) ON DELETE SET NULL",
                """
                UPDATE chats SET creator_id = (
                    SELECT p.user_id FROM chat_participants p WHERE p.chat_id = chats.id ORDER BY p.id LIMIT 1
                ) WHERE is_group = 1
                """,
                // Each participant's read marker: the highest seq they have read (absent: 0).
                """
                CREATE TABLE chat_reads (
                    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
                    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    read_seq BIGINT NOT NULL,
                    PRIMARY KEY (chat_id, user_id)
                )
                """,
                "CREATE INDEX chat_reads_user ON chat_reads(user_id)",
            ] + messageSearchStatements(dialect)),
        ]
    }

    /// The full-text index of message contents, in the database's own kind.
    ///
    /// SQLite: an FTS5 table that stores no text of its own (it reads `messages`), kept in step by
    /// triggers, so every insert, edit and delete, whoever makes it, reaches the index in the same
    /// transaction. PostgreSQL: a GIN index over the `tsvector` of the content, with the `simple`
    /// configuration (lower case, no stemming, no stop words), so text in any language is found.
    private static func messageSearchStatements(_ dialect: SQLDialect) -> [String] {
        switch dialect.fullTextIndex {
        case .fts5:
            return [
                "CREATE VIRTUAL TABLE messages_search USING fts5(content, content = 'messages', content_rowid = 'id', tokenize = 'unicode61')",
                """
                CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
                    INSERT INTO messages_search (rowid, content) VALUES (new.id, new.content);
                END
                """,
                """
                CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
                    INSERT INTO messages_search (messages_search, rowid, content) VALUES ('delete', old.id, old.content);
                END
                """,
                """
                CREATE TRIGGER messages_search_update AFTER UPDATE OF content ON messages BEGIN
                    INSERT INTO messages_search (messages_search, rowid, content) VALUES ('delete', old.id, old.content);
                    INSERT INTO messages_search (rowid, content) VALUES (new.id, new.content);
                END
                """,
                // The messages stored before this step.
                "INSERT INTO messages_search (messages_search) VALUES ('rebuild')",
            ]
        case .tsvector:
            // The store's queries repeat this expression exactly, so the planner can use the index.
            return ["CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', content))"]
        }
    }

    /// Applies the steps the database has not seen yet, each in its own transaction. Nodes
    /// starting together take turns: the whole run holds the database's migration lock.
    ///
    /// `lastStep` stops after the step of that name: a database as an earlier release left it (tests).
    public static func apply(to database: any SQLDatabase, logger: Logger, through lastStep: String? = nil) async throws {
        let steps = try steps(database.dialect, through: lastStep)
        try await database.withExclusiveConnection(lockKey: lockKey) { connection in
            let applied = try await appliedNames(connection)
            for step in steps where !applied.contains(step.name) {
                try await connection.inTransaction {
                    for statement in step.statements {
                        _ = try await connection.query(statement, [])
                    }
                    _ = try await connection.query(
                        "INSERT INTO applied_migrations (name, applied_at) VALUES (?, ?)",
                        [.text(step.name), .int(Timestamp.now.microseconds)]
                    )
                }
                logger.info("applied migration", metadata: ["migration": "\(step.name)"])
            }
        }
    }

    /// The steps up to and including `lastStep` (all when nil).
    private static func steps(_ dialect: SQLDialect, through lastStep: String?) throws -> [Migration] {
        let steps = steps(dialect)
        guard let lastStep else { return steps }
        guard let last = steps.firstIndex(where: { $0.name == lastStep }) else { throw ConfigurationError("no migration named \(lastStep)") }
        return Array(steps[...last])
    }

    /// The names of every step, with whether the database has applied it (`chat-server migrate --status`).
    public static func status(of database: any SQLDatabase) async throws -> [(name: String, applied: Bool)] {
        let applied = try await database.withExclusiveConnection(lockKey: lockKey) { try await appliedNames($0) }
        return steps(database.dialect).map { ($0.name, applied.contains($0.name)) }
    }

    /// The advisory lock every node takes to migrate (an arbitrary constant, distinct from chat ids' locks).
    static let lockKey: Int64 = -0x6d69_6772_6174_65

    /// The steps recorded as applied, creating the record on a new database. Databases made before
    /// steps had names recorded them by position in `schema_migrations`; those are carried over.
    private static func appliedNames(_ connection: any SQLConnection) async throws -> Set<String> {
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS applied_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)", []
        )
        var names = Set(try await connection.query("SELECT name FROM applied_migrations", []).map { try $0.string("name") })
        if names.isEmpty {
            names = try await carryOverNumberedSteps(connection)
        }
        return names
    }

    /// Position-numbered records (the first release's `schema_migrations`) as names.
    private static func carryOverNumberedSteps(_ connection: any SQLConnection) async throws -> Set<String> {
        let legacyNames: [Int64: String] = [1: "0001_initial", 2: "0002_google_subject"]
        let versions: [Int64]
        do {
            versions = try await connection.query("SELECT version FROM schema_migrations", []).map { try $0.int("version") }
        } catch let error as DatabaseUnavailableError {
            throw error
        } catch {
            return []  // No such table: a new database.
        }
        let names = Set(versions.compactMap { legacyNames[$0] })
        for name in names.sorted() {
            _ = try await connection.query(
                "INSERT INTO applied_migrations (name, applied_at) VALUES (?, ?)", [.text(name), .int(Timestamp.now.microseconds)]
            )
        }
        return names
    }
}

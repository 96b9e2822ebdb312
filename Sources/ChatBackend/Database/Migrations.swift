import Logging

/// The schema, as numbered steps applied once each and recorded in `schema_migrations`.
///
/// Steps are written once for both dialects; only the spellings of ``SQLDialect`` differ.
/// Dates are integer microseconds, UUIDs lowercase text, booleans 0 or 1.
public enum Migrations {
    /// Every step, oldest first. Append; never edit a step that has shipped.
    static func steps(_ dialect: SQLDialect) -> [[String]] {
        let id = dialect.autoIncrementPrimaryKey
        return [
            [
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
            ],
            [
                // Google sign-in: the account's stable Google id, once linked.
                "ALTER TABLE users ADD COLUMN google_subject TEXT",
                "CREATE UNIQUE INDEX users_google_subject ON users(google_subject)",
            ],
        ]
    }

    /// Applies the steps the database has not seen yet, each in its own transaction.
    public static func apply(to database: any SQLDatabase, logger: Logger) async throws {
        _ = try await database.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)"
        )
        let applied = try await database.query("SELECT version FROM schema_migrations")
            .map { try $0.int("version") }
        let current = applied.max() ?? 0
        for (index, statements) in steps(database.dialect).enumerated() where Int64(index + 1) > current {
            let version = Int64(index + 1)
            try await database.transaction { connection in
                for statement in statements {
                    _ = try await connection.query(statement, [])
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [.int(version), .int(Timestamp.now.microseconds)]
                )
            }
            logger.info("applied migration", metadata: ["version": "\(version)"])
        }
    }
}

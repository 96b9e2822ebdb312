import Foundation

/// Users, their tokens and their e-mail confirmations.
extension ChatStore {
    /// Creates a user; throws ``StoreConflict`` when the e-mail or username is taken.
    public func createUser(
        email: String, username: String, passwordHash: String?, emailVerified: Bool = false, googleSubject: String? = nil
    ) async throws -> User {
        let now = clock().microseconds
        do {
            return try await insertUser(email: email, username: username, passwordHash: passwordHash, emailVerified: emailVerified, googleSubject: googleSubject, now: now)
        } catch is SQLUniqueViolation {
            // A concurrent registration won the race between our check and our insert.
            throw try await user(email: email) != nil ? StoreConflict.emailTaken : StoreConflict.usernameTaken
        }
    }

    private func insertUser(
        email: String, username: String, passwordHash: String?, emailVerified: Bool, googleSubject: String?, now: Int64
    ) async throws -> User {
        try await database.transaction { connection in
            if try await !connection.query("SELECT id FROM users WHERE email_key = ?", [.text(TextRules.emailKey(email))]).isEmpty {
                throw StoreConflict.emailTaken
            }
            if try await !connection.query("SELECT id FROM users WHERE username_key = ?", [.text(username.lowercased())]).isEmpty {
                throw StoreConflict.usernameTaken
            }
            let rows = try await connection.query(
                """
                INSERT INTO users (uuid, email, email_key, username, username_key, password_hash, email_verified, is_active, created_at, google_subject)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                RETURNING id, uuid, email, username, password_hash, email_verified, is_active
                """,
                [
                    .text(UUID().text), .text(email), .text(TextRules.emailKey(email)), .text(username), .text(username.lowercased()),
                    passwordHash.map(SQLValue.text) ?? .null, .int(emailVerified ? 1 : 0), .int(now),
                    googleSubject.map(SQLValue.text) ?? .null,
                ]
            )
            guard let row = rows.first else { throw SQLRowError.unexpectedValue("id") }
            return try Self.user(row)
        }
    }

    /// Whether some user already has this username (case-insensitive).
    public func usernameExists(_ username: String) async throws -> Bool {
        try await !database.read("SELECT id FROM users WHERE username_key = ?", [.text(username.lowercased())]).isEmpty
    }

    /// The user with this e-mail (case-insensitive), if any.
    public func user(email: String) async throws -> User? {
        try await firstUser(where: "u.email_key = ?", .text(TextRules.emailKey(email)))
    }

    /// The user with this public id, if any.
    public func user(uuid: UUID) async throws -> User? {
        try await firstUser(where: "u.uuid = ?", .text(uuid.text))
    }

    /// The user with this database id, if any.
    public func user(id: Int64) async throws -> User? {
        try await firstUser(where: "u.id = ?", .int(id))
    }

    /// The user with this username (case-insensitive), if any.
    public func user(username: String) async throws -> User? {
        try await firstUser(where: "u.username_key = ?", .text(username.lowercased()))
    }

    /// Up to `limit` users, oldest account first (the `chat-server user list` command).
    public func users(limit: Int) async throws -> [User] {
        try await database.read("SELECT \(Self.userColumns) FROM users u ORDER BY u.id LIMIT ?", [.int(Int64(limit))])
            .map(Self.user)
    }

    /// Marks a user active or not; an inactive user's tokens no longer authenticate and their
    /// password no longer logs in.
    public func setActive(_ active: Bool, userID: Int64) async throws {
        _ = try await database.query("UPDATE users SET is_active = ? WHERE id = ?", [.int(active ? 1 : 0), .int(userID)])
    }

    private func firstUser(where condition: String, _ bind: SQLValue) async throws -> User? {
        try await database.read("SELECT \(Self.userColumns) FROM users u WHERE \(condition)", [bind])
            .first.map(Self.user)
    }

    /// Users whose username contains `phrase`, case-insensitively, in username order.
    public func searchUsers(phrase: String, limit: Int, offset: Int) async throws -> Page<User> {
        let like = database.dialect.caseInsensitiveLike
        let condition = "u.username \(like) ? ESCAPE '\\'"
        let pattern = SQLValue.text(Self.containsPattern(phrase))
        let total = try Self.count(await database.read("SELECT COUNT(*) AS n FROM users u WHERE \(condition)", [pattern]))
        let rows = try await database.read(
            "SELECT \(Self.userColumns) FROM users u WHERE \(condition) ORDER BY u.username_key, u.id LIMIT ? OFFSET ?",
            [pattern, .int(Int64(limit)), .int(Int64(offset))]
        )
        return Page(items: try rows.map(Self.user), total: total)
    }

    /// Replaces a user's password hash.
    public func setPasswordHash(_ hash: String, userID: Int64) async throws {
        _ = try await database.query("UPDATE users SET password_hash = ? WHERE id = ?", [.text(hash), .int(userID)])
    }

    /// The user linked to a Google account, if any.
    public func user(googleSubject: String) async throws -> User? {
        try await firstUser(where: "u.google_subject = ?", .text(googleSubject))
    }

    /// Links a Google account to a user, whose e-mail Google has vouched for.
    public func linkGoogle(subject: String, userID: Int64) async throws {
        _ = try await database.query(
            "UPDATE users SET google_subject = ?, email_verified = 1 WHERE id = ?", [.text(subject), .int(userID)]
        )
    }

    // MARK: Tokens

    /// Stores a new token (by its hash) for a user: one per sign-in, so devices sign out separately.
    public func addToken(hash: String, userID: Int64) async throws {
        _ = try await database.query(
            "INSERT INTO auth_tokens (user_id, key_hash, created_at) VALUES (?, ?, ?)",
            [.int(userID), .text(hash), .int(clock().microseconds)]
        )
    }

    /// The active user a token hash belongs to, if any.
    public func user(tokenHash: String) async throws -> User? {
        try await database.read(
            "SELECT \(Self.userColumns) FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_hash = ? AND u.is_active = 1",
            [.text(tokenHash)]
        ).first.map(Self.user)
    }

    /// Revokes one token.
    public func deleteToken(hash: String) async throws {
        _ = try await database.query("DELETE FROM auth_tokens WHERE key_hash = ?", [.text(hash)])
    }

    /// Revokes every token of a user but `keptHash`.
    public func deleteTokens(userID: Int64, except keptHash: String) async throws {
        _ = try await database.query(
            "DELETE FROM auth_tokens WHERE user_id = ? AND key_hash <> ?",
            [.int(userID), .text(keptHash)]
        )
    }

    /// Revokes every token of a user; returns how many there were.
    @discardableResult
    public func deleteAllTokens(userID: Int64) async throws -> Int {
        try await database.query("DELETE FROM auth_tokens WHERE user_id = ? RETURNING id", [.int(userID)]).count
    }

    // MARK: E-mail confirmation

    /// Stores a confirmation key (by its hash) for a user.
    public func addEmailConfirmation(keyHash: String, userID: Int64) async throws {
        _ = try await database.query(
            "INSERT INTO email_confirmations (user_id, key_hash, created_at) VALUES (?, ?, ?)",
            [.int(userID), .text(keyHash), .int(clock().microseconds)]
        )
    }

    /// Marks the user of a confirmation key verified and spends the key; false when the key is
    /// unknown or was used already (keys are single-use, as the original's).
    public func confirmEmail(keyHash: String) async throws -> Bool {
        try await database.transaction { connection in
            guard let row = try await connection.query(
                "DELETE FROM email_confirmations WHERE key_hash = ? RETURNING user_id", [.text(keyHash)]
            ).first else { return false }
            _ = try await connection.query("UPDATE users SET email_verified = 1 WHERE id = ?", [.int(try row.int("user_id"))])
            return true
        }
    }
}

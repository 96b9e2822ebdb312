import Foundation
import Logging

/// Why an admin command stopped: the executable prints it as one line and exits non-zero.
public struct AdminError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The work of `chat-server`'s admin commands (`user create|list|deactivate`, `token revoke`,
/// `seed`), each on the configured database, opened for the length of the command.
///
/// Nothing is applied silently: a database with pending migrations is refused (run
/// `chat-server migrate` first). Accounts go through the same store and identity methods the API
/// uses: passwords are hashed as registration hashes them, under the same policy.
public enum Admin {
    /// What the admin commands say about revoked tokens and open sockets.
    public static let revocationNote = """
        With REDIS_URL set, the revocation is published to every running node, which closes the \
        user's sockets at once. Without it, a running server is not told: a socket opened with a \
        revoked token is closed (1008) at the first command it sends 10 s or more after its last \
        check, and until then an idle one keeps receiving its chat's messages; restart the server \
        to close them all at once. REST requests with the token are refused at once either way.
        """

    /// Creates an active, confirmed account; throws ``AdminError`` when the e-mail, username or
    /// password is refused, saying why.
    public static func createUser(_ configuration: AppConfiguration, email rawEmail: String, username: String, password: String) async throws -> User {
        let email = EmailAddress.normalized(rawEmail)
        guard email.count <= Limits.emailCharacters, EmailAddress.isValid(email) else {
            throw AdminError("'\(rawEmail)' is not a valid e-mail address")
        }
        guard !username.isEmpty, username.count <= Limits.usernameCharacters, AuthController.isValidUsername(username) else {
            throw AdminError("'\(username)' is not a valid username: letters, digits and @/./+/-/_ only, at most \(Limits.usernameCharacters) characters")
        }
        let violations = configuration.accounts.passwordPolicy.check(password, username: username, email: email)
        guard violations.isEmpty else {
            throw AdminError("password refused: " + (violations.password + violations.similarity).joined(separator: " "))
        }
        return try await withStore(configuration) { store, hasher in
            let hash = try await hasher.whileRunning { try await hasher.hash(password) }
            do {
                return try await store.createUser(email: email, username: username, passwordHash: hash, emailVerified: true)
            } catch StoreConflict.emailTaken {
                throw AdminError("a user is already registered with the e-mail \(email)")
            } catch StoreConflict.usernameTaken {
                throw AdminError("a user with the username \(username) already exists")
            }
        }
    }

    /// Up to `limit` users, oldest first.
    public static func listUsers(_ configuration: AppConfiguration, limit: Int) async throws -> [User] {
        guard limit > 0 else { throw AdminError("--limit must be at least 1") }
        return try await withStore(configuration) { store, _ in try await store.users(limit: limit) }
    }

    /// The line `user list` prints for a user: uuid, username, e-mail, active, tab-separated.
    public static func listLine(_ user: User) -> String {
        [user.uuid.uuidString.lowercased(), user.username, user.email, user.isActive ? "active" : "inactive"].joined(separator: "\t")
    }

    /// Deactivates the user named by e-mail, username or uuid and revokes every token of theirs;
    /// returns the user and how many tokens were revoked.
    public static func deactivateUser(_ configuration: AppConfiguration, _ who: String) async throws -> (user: User, revokedTokens: Int) {
        try await withStore(configuration) { store, _ in
            let user = try await findUser(who, in: store)
            try await store.setActive(false, userID: user.id)
            let revoked = try await store.deleteAllTokens(userID: user.id)
            try announceRevocation(of: user, configuration)
            return (user, revoked)
        }
    }

    /// Revokes every token of the user named by e-mail, username or uuid (they may log in again);
    /// returns the user and how many tokens were revoked.
    public static func revokeTokens(_ configuration: AppConfiguration, _ who: String) async throws -> (user: User, revokedTokens: Int) {
        try await withStore(configuration) { store, _ in
            let user = try await findUser(who, in: store)
            let revoked = try await store.deleteAllTokens(userID: user.id)
            try announceRevocation(of: user, configuration)
            return (user, revoked)
        }
    }

    // MARK: Shared steps

    /// Opens the configured database, refuses it when a migration is pending, and runs `body`
    /// with a store on it and a password hasher of the configured cost (started on demand).
    static func withStore<T: Sendable>(
        _ configuration: AppConfiguration, _ body: @escaping @Sendable (ChatStore, PasswordHasher) async throws -> T
    ) async throws -> T {
        let logger = makeLogger(configuration)
        let database = try await openDatabase(configuration.database, logger: logger)
        return try await database.whileRunning { database in
            let pending = try await Migrations.status(of: database).filter { !$0.applied }.map(\.name)
            guard pending.isEmpty else {
                throw AdminError("the database has pending migrations (\(pending.joined(separator: ", "))): run `chat-server migrate` first")
            }
            let store = ChatStore(database: database, clock: configuration.clock)
            return try await body(store, PasswordHasher(cost: configuration.accounts.bcryptCost, threads: 1))
        }
    }

    /// The user an admin named: a uuid, an e-mail (it has an `@` and matches one) or a username.
    static func findUser(_ who: String, in store: ChatStore) async throws -> User {
        if let uuid = UUID(uuidString: who), let user = try await store.user(uuid: uuid) { return user }
        if who.contains("@"), let user = try await store.user(email: who) { return user }
        if let user = try await store.user(username: who) { return user }
        throw AdminError("no user with the e-mail, username or uuid '\(who)'")
    }

    /// Tells running nodes, through Redis when configured, to close the user's sockets now.
    private static func announceRevocation(of user: User, _ configuration: AppConfiguration) throws {
        guard let url = configuration.redisURL else { return }
        do {
            try RedisChannelLayer.publish(TokenRevocation(userID: user.id), url: url, channelPrefix: configuration.redisChannelPrefix)
        } catch {
            throw AdminError("tokens revoked, but the revocation could not be published on Redis (\(error)); open sockets close at their next command after the 10 s re-check")
        }
    }
}

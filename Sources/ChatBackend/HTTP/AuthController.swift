import HTTPTypes
import Hummingbird
import Logging

/// `/api/rest-auth/`: registration, e-mail confirmation, log-in, log-out and password change.
struct AuthController {
    let store: ChatStore
    let authenticator: Authenticator
    let settings: AccountSettings
    let hasher: PasswordHasher
    let outbox: any MailOutbox
    let throttle: Throttle
    /// Counts log-ins (with a password or with Google) by outcome.
    let logins: LoginMetrics
    /// Closes the sockets of revoked tokens, on every node.
    let channelLayer: any ChannelLayer
    /// Nil when no Google client ID is configured: Google sign-in is off.
    let google: GoogleTokenVerifier?

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.post("registration/", use: register)
        group.post("registration/resend-email/", use: resendEmail)
        group.post("registration/verify-email/", use: verifyEmail)
        group.get("registration/account-confirm-email/:key/", use: confirmEmailLink)
        group.post("login/", use: login)
        group.post("google/", use: googleLogin)
        group.get("login/") { request, _ -> Response in throw APIError.methodNotAllowed(request.method) }
        group.get("logout/") { request, _ -> Response in throw APIError.methodNotAllowed(request.method) }
        group.group("logout/").add(middleware: TokenAuthenticator(authenticator: authenticator, required: false)).post(use: logout)
        group.group("password/change/").add(middleware: TokenAuthenticator(authenticator: authenticator)).post(use: changePassword)
    }

    // MARK: Registration

    @Sendable func register(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try await throttle.check(.registrationPerAddress, addressOf: request, context: context)
        var fields = try await RequestFields.read(request, context: context)
        let email = fields.string("email", maxLength: Limits.emailCharacters).map(EmailAddress.normalized)
        if let email, !EmailAddress.isValid(email) { fields.fail("email", "Enter a valid email address.") }
        let requestedUsername = fields.optionalString("username", maxLength: Limits.usernameCharacters)
        if let requestedUsername, !Self.isValidUsername(requestedUsername) {
            fields.fail("username", "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.")
        }
        let password1 = fields.string("password1", maxLength: settings.passwordPolicy.maximumLength)
        let password2 = fields.string("password2", maxLength: settings.passwordPolicy.maximumLength)
        if let email, fields.errors.isEmpty, try await store.user(email: email) != nil {
            fields.fail("email", "A user is already registered with this e-mail address.")
        }
        if let requestedUsername, fields.errors.isEmpty, try await store.usernameExists(requestedUsername) {
            fields.fail("username", "A user with that username already exists.")
        }
        try fields.validate()
        guard let email, let password1, let password2 else { throw APIError.badRequest }
        guard password1 == password2 else { throw APIError.nonField("The two password fields didn't match.") }
        let username: String
        if let requestedUsername {
            username = requestedUsername
        } else {
            username = try await uniqueUsername(from: email)
        }
        try checkPolicy(password1, username: username, email: email, field: "password1")

        let user: User
        do {
            user = try await store.createUser(email: email, username: username, passwordHash: try await hasher.hash(password1))
        } catch StoreConflict.emailTaken {
            throw APIError.validation([("email", ["A user is already registered with this e-mail address."])])
        } catch StoreConflict.usernameTaken {
            throw APIError.validation([("username", ["A user with that username already exists."])])
        }
        try await sendConfirmation(to: user, request: request, context: context)
        if settings.requireEmailVerification {
            return .json(["detail": "Verification e-mail sent."], status: .created)
        }
        return signedIn(try await issueToken(for: user), status: .created, context: context)
    }

    @Sendable func resendEmail(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try await throttle.check(.emailResend, addressOf: request, context: context)
        var fields = try await RequestFields.read(request, context: context)
        let email = fields.string("email", maxLength: Limits.emailCharacters).map(EmailAddress.normalized)
        // Checked as the original's e-mail field did; it says nothing about who is registered.
        if let email, !EmailAddress.isValid(email) { fields.fail("email", "Enter a valid email address.") }
        try fields.validate()
        if let email { try await throttle.check(.emailResend, "email " + TextRules.emailKey(email)) }
        // Same answer whether or not the address has an account: the route must not reveal who is registered.
        if let email, let user = try await store.user(email: email), !user.emailVerified {
            try await sendConfirmation(to: user, request: request, context: context)
        }
        return .json(["detail": "ok"])
    }

    @Sendable func verifyEmail(_ request: Request, context: ChatRequestContext) async throws -> Response {
        var fields = try await RequestFields.read(request, context: context)
        let key = fields.string("key", maxLength: Limits.keyCharacters)
        try fields.validate()
        guard let key, try await store.confirmEmail(keyHash: SecretKey(key).digest) else { throw APIError.notFound }
        return .json(["detail": "ok"])
    }

    @Sendable func confirmEmailLink(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let key = context.parameters.get("key") ?? ""
        let confirmed = key.count <= Limits.keyCharacters ? try await store.confirmEmail(keyHash: SecretKey(key).digest) : false
        return .json(["confirmed": .bool(confirmed)])
    }

    // MARK: Sessions

    @Sendable func login(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try await logins.counting { try await passwordLogin(request, context: context) }
    }

    private func passwordLogin(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try await throttle.check(.loginPerAddress, addressOf: request, context: context)
        var fields = try await RequestFields.read(request, context: context)
        let password = fields.string("password", maxLength: settings.passwordPolicy.maximumLength)
        try fields.validate()
        guard let password, let email = fields["email"]?.stringValue, !email.isEmpty, email.count <= Limits.emailCharacters else {
            throw APIError.nonField("Must include \"email\" and \"password\".")
        }
        try await throttle.check(.loginPerAccount, "account " + TextRules.emailKey(email))
        let refused = APIError.nonField("Unable to log in with provided credentials.")
        guard let user = try await store.user(email: email), let hash = user.passwordHash else {
            try await hasher.spendCheckTime(password)
            throw refused
        }
        guard try await hasher.verify(password, hash: hash), user.isActive else { throw refused }
        if settings.requireEmailVerification, !user.emailVerified {
            throw APIError.nonField("E-mail is not verified.")
        }
        return signedIn(try await issueToken(for: user), context: context)
    }

    @Sendable func logout(_ request: Request, context: ChatRequestContext) async throws -> Response {
        if let caller = context.caller {
            try await store.deleteToken(hash: caller.tokenDigest)
            await closeSockets(of: TokenRevocation(userID: caller.user.id, tokenDigests: [caller.tokenDigest]), context: context)
        }
        var response = Response.json(["detail": "Successfully logged out."])
        // The cookie names the token just revoked (or one the caller did not present): useless either way.
        response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.clearing(context: context)))
        return response
    }

    @Sendable func changePassword(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let user = try context.requireUser()
        try await throttle.check(.passwordChangePerAccount, "user \(user.id)")
        var fields = try await RequestFields.read(request, context: context)
        let maximum = settings.passwordPolicy.maximumLength
        let oldPassword = settings.requireOldPassword ? fields.string("old_password", maxLength: maximum) : nil
        let new1 = fields.string("new_password1", maxLength: maximum)
        let new2 = fields.string("new_password2", maxLength: maximum)
        try fields.validate()
        guard let new1, let new2 else { throw APIError.badRequest }
        if let oldPassword, try await !hasher.verify(oldPassword, hash: user.passwordHash ?? "") {
            throw APIError.validation([("old_password", ["Your old password was entered incorrectly. Please enter it again."])])
        }
        guard new1 == new2 else { throw APIError.validation([("new_password2", ["The two password fields didn’t match."])]) }
        try checkPolicy(new2, username: user.username, email: user.email, field: "new_password2")
        try await store.setPasswordHash(try await hasher.hash(new2), userID: user.id)
        if let digest = context.caller?.tokenDigest {
            // Other devices signed in with the old password are signed out; this one stays.
            try await store.deleteTokens(userID: user.id, except: digest)
            await closeSockets(of: TokenRevocation(userID: user.id, keeping: digest), context: context)
        }
        return .json(["detail": "New password has been saved."])
    }

    /// Closes the sockets opened with revoked tokens now, on every node. Should the channel layer
    /// be down, each socket still finds out at its next periodic check.
    private func closeSockets(of revocation: TokenRevocation, context: ChatRequestContext) async {
        do {
            try await channelLayer.revoke(revocation)
        } catch {
            context.logger.warning("could not announce a token revocation", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Shared steps

    /// The answer to a sign-in (registration, log-in, Google): the key in the body, for API
    /// clients, and in the session cookie, for browser clients of the original, whose sockets
    /// present nothing else.
    func signedIn(_ key: SecretKey, status: HTTPResponse.Status = .ok, context: ChatRequestContext) -> Response {
        var response = Response.json(["key": .string(key.text)], status: status)
        response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.setting(key, context: context)))
        return response
    }

    /// Issues a new token for a user (one per sign-in) and returns the key the client keeps.
    func issueToken(for user: User) async throws -> SecretKey {
        let key = SecretKey.random()
        try await store.addToken(hash: key.digest, userID: user.id)
        return key
    }

    private func checkPolicy(_ password: String, username: String, email: String, field: String) throws {
        let violations = settings.passwordPolicy.check(password, username: username, email: email)
        var errors: [(String, [String])] = []
        if !violations.password.isEmpty { errors.append((field, violations.password)) }
        if !violations.similarity.isEmpty { errors.append(("non_field_errors", violations.similarity)) }
        if !errors.isEmpty { throw APIError.validation(errors) }
    }

    private func sendConfirmation(to user: User, request: Request, context: ChatRequestContext) async throws {
        let key = SecretKey.random()
        try await store.addEmailConfirmation(keyHash: key.digest, userID: user.id)
        let link = Pagination.absoluteBase(request, context) + "/api/rest-auth/registration/account-confirm-email/\(key.text)/"
        await outbox.send(
            Mail(
                to: user.email,
                subject: "Please confirm your e-mail address",
                body: "Hello \(user.username),\n\nconfirm your e-mail address by opening \(link)\nor by posting the key \(key.text) to /api/rest-auth/registration/verify-email/.\n"
            )
        )
    }

    /// The part of the e-mail before `@`, reduced to username characters, made unique with a number.
    func uniqueUsername(from email: String) async throws -> String {
        let local = email.split(separator: "@").first.map(String.init) ?? ""
        var base = String(local.filter { Self.usernameCharacters.contains($0) }.prefix(Limits.usernameCharacters - 8))
        if base.isEmpty { base = "user" }
        var candidate = base
        var suffix = 1
        while try await store.usernameExists(candidate) {
            suffix += 1
            candidate = suffix < 100 ? "\(base)\(suffix)" : "\(base)\(Int.random(in: 100...99_999_999))"
        }
        return candidate
    }

    private static let usernameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.+-_")

    /// Whether a username holds only the characters registration accepts (the admin commands check it too).
    static func isValidUsername(_ name: String) -> Bool {
        name.allSatisfy { usernameCharacters.contains($0) || $0.isLetter || $0.isNumber }
    }
}

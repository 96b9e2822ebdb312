import Hummingbird

/// `POST /api/rest-auth/google/`: a client that signed the person in with Google trades what
/// Google gave it (an ID token, or an access token) for an API token.
extension AuthController {
    @Sendable func googleLogin(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try await logins.counting { try await signInWithGoogle(request, context: context) }
    }

    private func signInWithGoogle(_ request: Request, context: ChatRequestContext) async throws -> Response {
        guard let google else { throw APIError.nonField("Google sign-in is not enabled on this server.") }
        try await throttle.check(.loginPerAddress, addressOf: request, context: context)
        var fields = try await RequestFields.read(request, context: context)
        let idToken = fields.optionalString("id_token", maxLength: Limits.googleIDTokenCharacters)
        let accessToken = idToken == nil ? fields.optionalString("access_token", maxLength: Limits.googleAccessTokenCharacters) : nil
        try fields.validate()
        do {
            let identity: GoogleIdentity
            if let idToken {
                identity = try await google.verify(idToken: idToken)
            } else if let accessToken {
                identity = try await google.verify(accessToken: accessToken)
            } else {
                throw APIError.nonField("Send the Google \"id_token\" (or an \"access_token\").")
            }
            let user = try await googleUser(identity)
            return signedIn(try await issueToken(for: user), context: context)
        } catch let error as GoogleSignInError {
            if case .unavailable(let reason) = error {
                context.logger.warning("Google sign-in unavailable", metadata: ["reason": "\(reason)"])
            }
            throw error.apiError
        }
    }

    /// The account of a Google identity: the one linked to its subject; else the account with its
    /// e-mail, linked now because Google vouches for that e-mail; else a new account.
    private func googleUser(_ identity: GoogleIdentity) async throws -> User {
        if let linked = try await store.user(googleSubject: identity.subject) {
            return linked
        }
        if let existing = try await store.user(email: identity.email) {
            // GoogleTokenVerifier refuses unverified e-mails, so this holds; kept as the rule's guard.
            guard identity.emailVerified else {
                throw APIError.nonField("An account with this e-mail exists; sign in with its password.")
            }
            try await store.linkGoogle(subject: identity.subject, userID: existing.id)
            return existing
        }
        do {
            return try await store.createUser(
                email: identity.email,
                username: try await uniqueUsername(from: identity.email),
                passwordHash: nil,
                emailVerified: identity.emailVerified,
                googleSubject: identity.subject
            )
        } catch StoreConflict.emailTaken, StoreConflict.usernameTaken {
            // A concurrent sign-in of the same person created the account first.
            guard let created = try await store.user(googleSubject: identity.subject) else { throw APIError.nonField("Please try again.") }
            return created
        }
    }
}

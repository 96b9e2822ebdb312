extension Account {
    /// The password the simulator's virtual users sign up with. Not built from the run's id: their
    /// e-mail addresses hold that id, and the server refuses a password too similar to them.
    public static let virtualUserPassword = "Quartz-fjord-7351!"
}

extension ChatClient {
    /// Registers with an e-mail and a password (`POST /api/rest-auth/registration/`), then reads
    /// who the server says the new user is.
    public func signUp(email: String, password: String) async throws -> Account {
        try await account(signedUpBy: register(email: email, password: password).expecting(201, "registration"))
    }

    /// Signs in with a Google ID token (`POST /api/rest-auth/google/`; the first sign-in creates
    /// the user), then reads who the server says the user is.
    public func signUp(googleIDToken: String) async throws -> Account {
        try await account(signedUpBy: googleSignIn(idToken: googleIDToken).expecting(200, "Google sign-in"))
    }

    /// The account a sign-up or log-in answer's token belongs to.
    fileprivate func account(signedUpBy response: APIResponse) async throws -> Account {
        guard let token = response.body?["key"]?.stringValue else { throw FlowError("sign-up", response, lacking: ["key"]) }
        return try await Account(client: self, token: token, sessionCookie: response.sessionCookie, profile: with(token: token).currentUser())
    }
}

extension ChatClient {
    /// Logs in with an e-mail and a password (`POST /api/rest-auth/login/`), then reads who the
    /// server says the user is.
    public func logIn(email: String, password: String) async throws -> Account {
        try await account(signedUpBy: login(email: email, password: password).expecting(200, "log-in"))
    }

    /// Signs up; when the server already has a user with this e-mail address (a run before with
    /// the same seed), logs in with `password` instead. Throws, in one line, when neither works.
    public func signUpOrLogIn(email: String, password: String) async throws -> Account {
        let registration = try await register(email: email, password: password)
        guard registration.status == 400, registration.body?["email"] != nil else {
            return try await account(signedUpBy: registration.expecting(201, "registration"))
        }
        let login = try await login(email: email, password: password)
        guard login.status == 200 else {
            throw FlowError(
                kind: "log-in of an existing user \(login.status)",
                "\(email) is already registered on the server, and logging in with the virtual users' password answered \(login.status): \(login.rawBody.prefix(200))"
            )
        }
        return try await account(signedUpBy: login)
    }
}

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

    private func account(signedUpBy response: APIResponse) async throws -> Account {
        guard let token = response.body?["key"]?.stringValue else { throw FlowError("sign-up", response, lacking: ["key"]) }
        return try await Account(client: self, token: token, profile: with(token: token).currentUser())
    }
}

/// Whether a server on a URL trusts the simulator's fake Google issuer, found by asking it once:
/// scenarios whose actors sign up with Google can only run against a server started to trust it
/// (its `GOOGLE_CLIENT_IDS`, `GOOGLE_JWKS_URL` and `GOOGLE_TOKENINFO_URL` pointing at the issuer).
/// Any other server refuses the issuer's tokens, and those scenarios are skipped, not failed: they
/// would say nothing about the server but how it was started.
public enum GoogleProbe {
    /// The one account the probe signs in as: the same on every run, so probing a server again
    /// reaches the account it created the first time instead of adding one.
    static let account = FakeGoogleAccount(subject: "chat-sim-google-probe", email: "google-probe@sim.example.com")

    /// Nil when the server at `baseURL` accepts an ID token of `issuer` for `clientID` (the probe's
    /// token is logged out at once); otherwise what it answered, in a few words.
    public static func refusal(baseURL: String, issuer: FakeGoogleIssuer, clientID: String) async -> String? {
        let client = ChatClient(baseURL: baseURL)
        let answer: APIResponse
        do {
            answer = try await client.googleSignIn(idToken: try issuer.idToken(for: account, audience: clientID))
        } catch {
            return "the Google sign-in request failed: \(error)"
        }
        if answer.status == 200, let key = answer.body?["key"]?.stringValue {
            _ = try? await client.with(token: key).logout()
            return nil
        }
        let body = answer.rawBody.prefix(160).replacingOccurrences(of: "\n", with: " ")
        return "POST /api/rest-auth/google/ with the fake issuer's token answered \(answer.status)" + (body.isEmpty ? "" : " \(body)")
    }

    /// The one-line how-to a skipped Google scenario carries: how to start the server so that it
    /// trusts the fake issuer, and how to tell the simulator where to serve it.
    public static func howToEnable(port: Int?, clientID: String) -> String {
        let port = port.map(String.init) ?? "<port>"
        let settings = FakeGoogleIssuer.serverSettings(port: port, clientID: clientID).joined(separator: " ")
        return "to test Google sign-in, start the server with \(settings) and run chat-sim with --fake-google-port \(port)"
    }
}

extension Scenario {
    /// Whether an actor of the scenario signs up with Google.
    public var needsGoogle: Bool {
        actors.contains { $0.signup == .google }
    }
}

/// Where a scenario runs, and what it may use there.
public struct ScenarioEnvironment: Sendable {
    /// `http://host:port` of the server under test; with several nodes, actors are spread over them.
    public var baseURLs: [String]
    /// The fake Google issuer the server trusts, for actors that sign up with Google.
    public var google: (issuer: FakeGoogleIssuer, clientID: String)?
    /// Makes names and messages reproducible: the same seed gives the same users, chats and messages.
    public var seed: UInt64
    /// How long to wait for broadcasts to arrive before calling them lost.
    public var settleTimeout: Duration = .seconds(5)
    /// How the actors' sockets authenticate: the token, or the session cookie of their sign-in.
    public var socketAuth = SocketAuth.token

    public init(baseURLs: [String], google: (issuer: FakeGoogleIssuer, clientID: String)? = nil, seed: UInt64) {
        self.baseURLs = baseURLs
        self.google = google
        self.seed = seed
    }
}

/// What a scenario run found.
public struct ScenarioResult: Sendable {
    public var scenario: String
    public var violations: [Violation]
    public var steps: Int
    public var messages: Int
    public var duration: Duration
    /// What every client saw.
    public var recording: Recording
    /// Why the scenario was not run, when it was not (not selected by `--only`, or the server
    /// cannot be tested for it here): neither a pass nor a failure.
    public var skipped: String?

    /// The messages sent, in order: the same seed gives the same list.
    public var sentContents: [String] { recording.sends.map(\.content) }

    /// Whether the scenario failed: it ran and broke an invariant or the contract.
    public var failed: Bool { skipped == nil && !violations.isEmpty }

    /// A scenario not run, and why.
    public static func skipped(_ scenario: String, because reason: String) -> ScenarioResult {
        ScenarioResult(
            scenario: scenario, violations: [], steps: 0, messages: 0, duration: .zero, recording: Recording(scenario: scenario), skipped: reason
        )
    }
}

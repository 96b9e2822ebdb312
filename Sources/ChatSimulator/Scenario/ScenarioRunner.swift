import ChatBackend

/// Plays one scenario with real clients and records what every client saw.
///
/// The runner holds the run's state (who signed up, which chats and sockets exist, what was sent);
/// each step kind's fields type runs itself on it (`Steps/`), isolated to the runner.
public actor ScenarioRunner {
    /// An actor of the scenario, signed up.
    struct Person {
        var account: Account
        /// The token the person had before its last `logout`.
        var revokedToken: String?

        var client: ChatClient { account.client }
        var uuid: String { account.uuid }
        var username: String { account.username }
    }

    /// A socket a step opened, and its log in the recording.
    struct OpenSocket {
        let socket: ChatSocket
        let logIndex: Int
    }

    let scenario: Scenario
    let environment: ScenarioEnvironment
    let runID: String
    var people: [String: Person] = [:]
    var chats: [String: String] = [:]
    /// Open sockets by `actor/chat`.
    var sockets: [String: OpenSocket] = [:]
    /// Every socket ever opened, by its log index: their frames go into the recording at the end.
    var socketObjects: [Int: ChatSocket] = [:]
    var recording: Recording
    var sequence = 0
    var messageCount = 0
    var random: SeededRandom
    var currentStep = "setup"

    public init(scenario: Scenario, environment: ScenarioEnvironment) {
        self.scenario = scenario
        self.environment = environment
        self.recording = Recording(scenario: scenario.name)
        self.random = SeededRandom(seed: environment.seed ^ Self.stableHash(scenario.name))
        // Scenarios of one run share a server: each gets names of its own, still fixed by the seed.
        self.runID = String(environment.seed, radix: 36) + String(Self.stableHash(scenario.name) % 1296, radix: 36)
    }

    /// Runs every step, then checks the invariants; a step that cannot go on ends the run as a violation.
    public func run() async -> ScenarioResult {
        let started = ContinuousClock.now
        var stepsRun = 0
        do {
            for (index, actor) in scenario.actors.enumerated() {
                currentStep = "sign-up of \(actor.name)"
                try await signUp(actor, baseURL: environment.baseURLs[index % environment.baseURLs.count])
            }
            for (index, step) in scenario.steps.enumerated() {
                currentStep = "step \(index + 1) (\(step.kind))"
                try await perform(step)
                stepsRun += 1
            }
            currentStep = "end"
            await settle(chat: nil)
        } catch {
            contract(client: "-", "the run stopped: \(error)")
        }
        for (_, open) in sockets { await close(open) }
        let recording = finalRecording()
        return ScenarioResult(
            scenario: scenario.name,
            violations: InvariantChecker().check(recording),
            steps: stepsRun,
            messages: messageCount,
            duration: ContinuousClock.now - started,
            recording: recording
        )
    }

    private func perform(_ step: Scenario.Step) async throws {
        switch step {
        case .invite(let step): try await step.run(in: self)
        case .accept(let step): try await step.run(accepting: true, in: self)
        case .decline(let step): try await step.run(accepting: false, in: self)
        case .group(let step): try await step.run(in: self)
        case .add(let step): try await step.run(in: self)
        case .connect(let step): try await step.run(in: self)
        case .disconnect(let step): try await step.run(in: self)
        case .send(let step): try await step.run(in: self)
        case .talk(let step): try await step.run(in: self)
        case .history(let step): try await step.run(in: self)
        case .frame(let step): try await step.run(in: self)
        case .request(let step): try await step.run(in: self)
        case .logout(let step): try await step.run(in: self)
        case .settle: await settle(chat: nil)
        }
    }

    private func signUp(_ actor: Scenario.Actor, baseURL: String) async throws {
        let email = "\(actor.name).\(runID)@sim.example.com"
        let client = ChatClient(baseURL: baseURL)
        let account: Account
        switch actor.signup ?? .password {
        case .password:
            account = try await client.signUp(email: email, password: Account.virtualUserPassword)
        case .google:
            guard let google = environment.google else {
                throw SimulatorError("actor \(actor.name) signs up with Google, and the server trusts no fake Google issuer of this run (see --fake-google-port)")
            }
            let identity = FakeGoogleAccount(subject: "sim-\(runID)-\(actor.name)", email: email)
            account = try await client.signUp(googleIDToken: try google.issuer.idToken(for: identity, audience: google.clientID))
        }
        people[actor.name] = Person(account: try await withSocketCredentials(account, password: actor.signup == .google ? nil : Account.virtualUserPassword))
    }

    /// The account, with a session cookie when sockets authenticate by it.
    func withSocketCredentials(_ account: Account, password: String?) async throws -> Account {
        environment.socketAuth == .cookie ? try await account.withSessionCookie(password: password) : account
    }

    static func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }
}

extension JSONValue {
    /// The elements of an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}

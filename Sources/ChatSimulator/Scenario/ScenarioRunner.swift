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

    /// An actor's user socket (`/ws/`), and its log in the recording.
    struct OpenUserSocket {
        let socket: UserSocket
        let logIndex: Int
    }

    /// A message sent with a `client_id`: who sent it, where, and what it said first.
    struct KeyedSend {
        let actor: String
        let chat: String
        let content: String
        /// The user sockets (by log index) it was sent on, first send and retries.
        var sockets: [Int] = []
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
    /// Open user sockets by actor (one each).
    var userSockets: [String: OpenUserSocket] = [:]
    /// Every user socket ever opened, by its log index: their frames go into the recording at the end.
    var userSocketObjects: [Int: UserSocket] = [:]
    /// What each actor's dropped user socket had seen of each chat: where `resume` starts.
    var droppedPositions: [String: [String: Int64]] = [:]
    /// Messages sent with a `client_id`, by it.
    var keyedSends: [String: KeyedSend] = [:]
    /// Who is in each chat (by uuid), as the steps made it.
    var members: [String: Set<String>] = [:]
    /// The furthest read marker each `actor/chat` asked for.
    var askedMarkers: [String: Int64] = [:]
    /// How many times each `client_id` was sent again after a refusal for now ("busy").
    var resentForNow: [String: Int] = [:]
    /// When each `actor/chat` last sent `typing` (the server may drop repeats within 2 s).
    var lastTyping: [String: ContinuousClock.Instant] = [:]
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
            try await readFinalStates()
        } catch {
            contract(client: "-", "the run stopped: \(error)")
        }
        for (_, open) in sockets { await close(open) }
        for (_, open) in userSockets { await close(open) }
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
        case .userSocket(let step): try await step.run(in: self)
        case .retry(let step): try await step.run(in: self)
        case .drop(let step): try await step.run(in: self)
        case .resume(let step): try await step.run(in: self)
        case .edit(let step): try await step.run(in: self)
        case .delete(let step): try await step.run(in: self)
        case .typing(let step): try await step.run(in: self)
        case .read(let step): try await step.run(in: self)
        case .leave(let step): try await step.run(in: self)
        case .remove(let step): try await step.run(in: self)
        case .rename(let step): try await step.run(in: self)
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

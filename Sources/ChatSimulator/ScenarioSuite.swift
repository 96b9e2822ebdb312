import ChatBackend
import Foundation

/// Runs scenario files against a server (a URL, or one started in-process) and reports what broke.
public struct ScenarioSuite: Sendable {
    public var files: [URL]
    public var seed: UInt64
    /// A fault to inject into the in-process server's broadcasts, to prove the checks catch it.
    public var fault: FaultyChannelLayer.Fault?
    /// A fault to inject into what the in-process server sends user sockets only.
    public var userSocketFault: FaultyUserSocketLayer.Fault?
    /// For servers on a URL: a port to serve the fake Google issuer on, which they were started
    /// to trust (`GOOGLE_JWKS_URL=http://127.0.0.1:<port>/oauth2/v3/certs`), and the client ID they accept.
    public var externalGoogle: (port: Int, clientID: String)?
    /// Where the in-process server keeps its state (tests run the suite on each backend); nil: a
    /// temporary SQLite file.
    public var storage: ServerStorage?
    /// Run only the scenarios carrying one of these tags (`--only`); the others are reported as
    /// skipped. Nil: every scenario.
    public var only: Set<ScenarioTag>?
    /// How the actors' sockets authenticate (`--socket-auth`).
    public var socketAuth = SocketAuth.token

    public init(files: [URL], seed: UInt64, fault: FaultyChannelLayer.Fault? = nil, storage: ServerStorage? = nil) {
        self.files = files
        self.seed = seed
        self.fault = fault
        self.storage = storage
    }

    /// Runs each scenario in turn; `report` is told of each result as it comes, skipped ones included.
    /// `serverURLs`: the nodes of the server under test; empty: start one in-process.
    ///
    /// Against a server on a URL, scenarios whose actors sign up with Google run only if the
    /// server accepts a token of the fake issuer (``GoogleProbe``, asked once); otherwise they are
    /// skipped with the how-to, since the server was simply not started to trust the issuer.
    public func run(serverURLs: [String], googleKeys: URL, report: @Sendable (ScenarioResult) -> Void) async throws -> [ScenarioResult] {
        let scenarios = try files.map(Scenario.load)
        let selected = scenarios.filter { $0.isSelected(by: only) }
        let (fault, userSocketFault) = (self.fault, self.userSocketFault)
        let server = serverURLs.isEmpty && !selected.isEmpty
            ? try await InProcessServer.start(storage: storage, googleKeys: googleKeys) { configuration in
                if let fault {
                    // Redis between nodes heals lost, repeated and crossed frames (each node puts a
                    // chat's frames back in seq order and reads gaps from the database), so the broken
                    // server is one node with the in-process layer, on the same database.
                    configuration.redisURL = nil
                    configuration.wrapChannelLayer = { FaultyChannelLayer(wrapping: $0, fault: fault) }
                } else if let userSocketFault {
                    configuration.redisURL = nil
                    configuration.wrapChannelLayer = { FaultyUserSocketLayer(wrapping: $0, fault: userSocketFault) }
                }
            }
            : nil
        var google = server?.google
        var googleSkip: String?
        var externalIssuer: FakeGoogleIssuer?
        if server == nil, selected.contains(where: \.needsGoogle), let baseURL = serverURLs.first {
            let clientID = externalGoogle?.clientID ?? InProcessServer.googleClientID
            if let external = externalGoogle {
                let issuer = try await FakeGoogleIssuer.start(keysDirectory: googleKeys, port: external.port)
                externalIssuer = issuer
                if let refusal = await GoogleProbe.refusal(baseURL: baseURL, issuer: issuer, clientID: clientID) {
                    googleSkip = "the server does not trust the simulator's fake Google issuer (\(refusal)); "
                        + GoogleProbe.howToEnable(port: issuer.port, clientID: clientID)
                } else {
                    google = (issuer, clientID)
                }
            } else {
                googleSkip = "no fake Google issuer is served for the server (no --fake-google-port); "
                    + GoogleProbe.howToEnable(port: nil, clientID: clientID)
            }
        }
        var results: [ScenarioResult] = []
        for scenario in scenarios {
            let result: ScenarioResult
            if !scenario.isSelected(by: only) {
                let tags = scenario.tags.isEmpty ? "untagged" : "tagged " + scenario.tags.map(\.rawValue).joined(separator: ", ")
                result = .skipped(scenario.name, because: "\(tags), not \((only ?? []).sorted().map(\.rawValue).joined(separator: " or ")) (--only)")
            } else if scenario.needsGoogle, google == nil, let googleSkip {
                result = .skipped(scenario.name, because: "an actor signs up with Google: " + googleSkip)
            } else {
                var environment = ScenarioEnvironment(baseURLs: server.map { [$0.baseURL] } ?? serverURLs, seed: seed)
                environment.google = google
                environment.socketAuth = socketAuth
                result = await ScenarioRunner(scenario: scenario, environment: environment).run()
            }
            report(result)
            results.append(result)
        }
        await server?.stop()
        await externalIssuer?.stop()
        return results
    }
}

/// The outcome of a run of scenarios: how many passed, failed and were skipped, and the exit
/// status `chat-sim run` ends with. Skipped scenarios never fail a run: they were not tested.
public struct ScenarioSummary: Sendable, Equatable {
    public var passed: Int
    public var failed: Int
    public var skipped: Int

    public init(passed: Int, failed: Int, skipped: Int) {
        self.passed = passed
        self.failed = failed
        self.skipped = skipped
    }

    /// The counts of a run's results.
    public init(_ results: [ScenarioResult]) {
        failed = results.filter(\.failed).count
        skipped = results.filter { $0.skipped != nil }.count
        passed = results.count - failed - skipped
    }

    /// 0 when no scenario that ran failed, else 1.
    public var exitStatus: Int32 { failed == 0 ? 0 : 1 }

    /// `all 5 scenario(s) passed, 2 skipped` or `1 of 5 scenario(s) failed, 2 skipped; replay with --seed 7`.
    public func line(seed: UInt64) -> String {
        let ran = passed + failed
        let skips = skipped == 0 ? "" : ", \(skipped) skipped"
        if failed == 0 { return ran == 0 ? "no scenario ran\(skips)" : "all \(ran) scenario(s) passed\(skips)" }
        return "\(failed) of \(ran) scenario(s) failed\(skips); replay with --seed \(seed)"
    }
}

import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Synchronization
import Testing

/// Which scenarios a run plays: those `--only` selects, and, against a server on a URL, the
/// Google ones only when that server trusts the simulator's fake issuer. The others are reported
/// as skipped, with why, and never fail the run.
@Suite("Scenario selection")
struct ScenarioSelectionTests {
    static let keys = ScenarioTests.root.appendingPathComponent("google")
    static let googleScenario = ScenarioTests.root.appendingPathComponent("scenarios/google-sign-in.yaml")

    /// A folder with a small scenario tagged `contract` and one tagged `extension`, `rounds` times
    /// over under distinct names (a scenario's users are named after it, so each round signs up
    /// users of its own).
    private func withTaggedScenarios<T>(rounds: Int = 1, _ body: ([URL]) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-tags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [URL] = []
        let tagged = (1...rounds).flatMap { round in
            ["contract", "extension"].map { tag in (tag, round == 1 ? "\(tag) pair" : "\(tag) pair \(round)") }
        }
        for (tag, name) in tagged {
            let file = folder.appendingPathComponent("\(name).yaml")
            try """
                name: \(name)
                tags: [\(tag)]
                actors:
                  - name: ann
                  - name: ben
                steps:
                  - invite: {from: ann, to: ben}
                  - accept: {actor: ben, from: ann, chat: ab}
                  - connect: {actor: ann, chat: ab}
                  - connect: {actor: ben, chat: ab}
                  - send: {actor: ann, chat: ab, count: 2}
                """.write(to: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        return try await body(files)
    }

    @Test("every scenario of the suite is tagged contract or extension, and both kinds exist")
    func everyScenarioTagged() throws {
        let scenarios = try ScenarioTests.files.map(Scenario.load)
        let untagged = scenarios.filter { $0.tags.isEmpty }.map(\.name)
        #expect(untagged.isEmpty, "untagged: \(untagged)")
        #expect(scenarios.contains { $0.tags.contains(.contract) })
        #expect(scenarios.contains { $0.tags.contains(.extension) })
    }

    @Test("--only contract plays the contract scenario and reports the extension one as skipped, naming its tag")
    func onlyContract() async throws {
        try await withTaggedScenarios { files in
            var suite = ScenarioSuite(files: files, seed: 5, storage: try await TestBackend.current.freshStorage())
            suite.only = [.contract]
            let reported = Mutex<[String]>([])
            let results = try await suite.run(serverURLs: [], googleKeys: Self.keys) { result in
                reported.withLock { $0.append(result.scenario) }
            }
            let ran = try #require(results.first { $0.scenario == "contract pair" })
            let skipped = try #require(results.first { $0.scenario == "extension pair" })
            #expect(ran.skipped == nil && ran.steps == 5 && ran.violations.isEmpty, "\(ran.violations)")
            #expect(skipped.skipped == "tagged extension, not contract (--only)")
            #expect(skipped.steps == 0 && skipped.messages == 0)
            #expect(reported.withLock { $0 } == ["contract pair", "extension pair"], "skipped scenarios are reported too")
            let summary = ScenarioSummary(results)
            #expect(summary == ScenarioSummary(passed: 1, failed: 0, skipped: 1))
            #expect(summary.exitStatus == 0)
            #expect(summary.line(seed: 5) == "all 1 scenario(s) passed, 1 skipped")
        }
    }

    @Test("against a server with rate limits, a run that meets them fails saying how to run the server")
    func rateLimitedSaysWhatToDo() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys) { configuration in
            configuration.rateLimits = RateLimitSettings()
            // The default burst of five, refilled by the hour rather than every 20 s, so that a
            // run slowed down by a busy machine still meets it.
            configuration.rateLimits.registrationPerAddress = RateLimit(perSecond: 1.0 / 3600, burst: 5)
        }
        // Eight sign-ups from one address: more than the burst of five.
        let results = try await withTaggedScenarios(rounds: 2) { files in
            try await ScenarioSuite(files: files, seed: 9).run(serverURLs: [server.baseURL], googleKeys: Self.keys, report: { _ in })
        }
        await server.stop()
        let messages = results.flatMap(\.violations).map(\.description)
        #expect(messages.contains { $0.contains("answered 429") && $0.contains("RATE_LIMITS=off") }, "\(messages)")
    }

    @Test("against a server without Google sign-in, the Google scenario is skipped with the how-to, the others run, and the run passes")
    func googleOffSkips() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys) { configuration in
            configuration.google.clientIDs = []
        }
        let results = try await withTaggedScenarios { files in
            var suite = ScenarioSuite(files: [Self.googleScenario] + files, seed: 8)
            // The fake issuer on a free port, as --fake-google-port would serve it.
            suite.externalGoogle = (0, InProcessServer.googleClientID)
            return try await suite.run(serverURLs: [server.baseURL], googleKeys: Self.keys, report: { _ in })
        }
        await server.stop()

        let google = try #require(results.first { $0.scenario == "google sign-in" })
        let reason = try #require(google.skipped)
        #expect(reason.contains("does not trust the simulator's fake Google issuer"), "\(reason)")
        #expect(reason.contains("answered 400"), "what the server said: \(reason)")
        for setting in ["GOOGLE_CLIENT_IDS=chat-sim.apps.googleusercontent.com", "GOOGLE_JWKS_URL=http://127.0.0.1:", "GOOGLE_TOKENINFO_URL=http://127.0.0.1:", "--fake-google-port"] {
            #expect(reason.contains(setting), "the how-to names \(setting): \(reason)")
        }
        #expect(!reason.contains("\n"), "one line")
        #expect(google.violations.isEmpty)
        let others = results.filter { $0.scenario != "google sign-in" }
        #expect(others.count == 2 && others.allSatisfy { $0.skipped == nil && $0.violations.isEmpty }, "\(others.map(\.violations))")
        #expect(ScenarioSummary(results) == ScenarioSummary(passed: 2, failed: 0, skipped: 1))
        #expect(ScenarioSummary(results).exitStatus == 0)
    }

    @Test("against a server on a URL with no fake issuer served for it, the Google scenario is skipped with the how-to")
    func noIssuerSkips() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys)
        let results = try await ScenarioSuite(files: [Self.googleScenario], seed: 8)
            .run(serverURLs: [server.baseURL], googleKeys: Self.keys, report: { _ in })
        await server.stop()
        let reason = try #require(results.first?.skipped)
        #expect(reason.contains("--fake-google-port <port>") && reason.contains("GOOGLE_JWKS_URL=http://127.0.0.1:<port>/oauth2/v3/certs"), "\(reason)")
        #expect(ScenarioSummary(results).exitStatus == 0)
    }

    @Test("a server on a URL that trusts the fake issuer's keys runs the Google scenario, which passes")
    func trustedIssuerRuns() async throws {
        // The in-process server trusts an issuer of the fixtures' keys; the suite serves another
        // issuer of the same keys, as a server started with the how-to's settings would trust it.
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys)
        var suite = ScenarioSuite(files: [Self.googleScenario], seed: 9)
        suite.externalGoogle = (0, InProcessServer.googleClientID)
        let results = try await suite.run(serverURLs: [server.baseURL], googleKeys: Self.keys, report: { _ in })
        await server.stop()
        let result = try #require(results.first)
        #expect(result.skipped == nil, "\(result.skipped ?? "")")
        #expect(result.violations.isEmpty && result.steps > 0, "\(result.violations)")
    }
}

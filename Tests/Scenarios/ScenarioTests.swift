import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Testing

/// Every scenario file, run by the simulator against the in-process server on SQLite: the
/// project's conformance suite.
@Suite("Scenarios")
struct ScenarioTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures").standardized
    static let files = (try? Scenario.files(in: [root.appendingPathComponent("scenarios").path])) ?? []

    @Test("the scenario folder is not empty")
    func folder() {
        #expect(Self.files.count >= 7)
    }

    /// A fixed seed, and a new one each run (a user's first run has no `--seed` either);
    /// `SCENARIO_SEED=<seed>` replays the one a failure names.
    static let seeds: [UInt64] = ProcessInfo.processInfo.environment["SCENARIO_SEED"].flatMap(UInt64.init).map { [$0] }
        ?? [20_261_126, UInt64.random(in: 1...UInt64(Int64.max))]

    /// A run that never ends fails, naming its case, instead of holding the whole suite.
    @Test("scenario", .timeLimit(.minutes(5)), arguments: files, seeds)
    func scenario(file: URL, seed: UInt64) async throws {
        let results = try await ScenarioSuite(files: [file], seed: seed, storage: TestBackend.current.freshStorage()).run(
            serverURLs: [], googleKeys: Self.root.appendingPathComponent("google"), report: { _ in }
        )
        let result = try #require(results.first)
        #expect(result.violations.isEmpty, "seed \(seed) (SCENARIO_SEED=\(seed) replays it): \(result.violations.map(\.description).joined(separator: "\n"))")
        #expect(result.steps > 0)
    }

    @Test("every scenario holds with sockets opened by the session cookie of the actors' sign-in instead of the token")
    func cookieSockets() async throws {
        var suite = ScenarioSuite(files: Self.files, seed: 31, storage: try await TestBackend.current.freshStorage())
        suite.socketAuth = .cookie
        let results = try await suite.run(serverURLs: [], googleKeys: Self.root.appendingPathComponent("google"), report: { _ in })
        #expect(results.count == Self.files.count)
        for result in results {
            #expect(result.skipped == nil && result.steps > 0, "\(result.scenario)")
            #expect(result.violations.isEmpty, "\(result.scenario): \(result.violations.map(\.description).joined(separator: "\n"))")
        }
    }

    @Test("a server that breaks its broadcasts fails the run", arguments: FaultyChannelLayer.Fault.allCases)
    func faultyServer(fault: FaultyChannelLayer.Fault) async throws {
        let file = Self.root.appendingPathComponent("scenarios/group-chat.yaml")
        let results = try await ScenarioSuite(files: [file], seed: 7, fault: fault, storage: TestBackend.current.freshStorage()).run(
            serverURLs: [], googleKeys: Self.root.appendingPathComponent("google"), report: { _ in }
        )
        let kinds = Set(results.flatMap(\.violations).map(\.kind))
        switch fault {
        case .drop: #expect(kinds.contains(.lost) && kinds.contains(.seqGap))
        case .duplicate: #expect(kinds.contains(.duplicated) && kinds.contains(.seqRepeat))
        case .reorder: #expect(kinds.contains(.reordered) || kinds.contains(.historyOrder))
        }
    }

    @Test("a server that breaks what user sockets get fails the run, naming the invariant", .timeLimit(.minutes(5)), arguments: FaultyUserSocketLayer.Fault.allCases)
    func faultyUserSockets(fault: FaultyUserSocketLayer.Fault) async throws {
        // Resumes and read markers: the scenarios that exercise what each fault breaks.
        let name = fault == .markerBack ? "edits-and-reads.yaml" : "resume-mid-burst.yaml"
        var suite = ScenarioSuite(files: [Self.root.appendingPathComponent("scenarios/\(name)")], seed: 7, storage: try await TestBackend.current.freshStorage())
        suite.userSocketFault = fault
        let results = try await suite.run(serverURLs: [], googleKeys: Self.root.appendingPathComponent("google"), report: { _ in })
        let violations = results.flatMap(\.violations)
        let kinds = Set(violations.map(\.kind))
        switch fault {
        case .dropMessages: #expect(kinds.isSuperset(of: [.lost, .resumeGap, .seqGap]), "\(kinds)")
        case .repeatMessages: #expect(kinds.isSuperset(of: [.duplicated, .resumeRepeat, .seqRepeat]), "\(kinds)")
        case .markerBack: #expect(kinds.contains(.markerBack), "\(kinds)")
        }
        // Chat sockets got every frame unharmed: only user sockets are named.
        #expect(violations.filter { $0.kind == .lost || $0.kind == .duplicated }.allSatisfy { $0.client.contains("(user socket") })
    }

    @Test("a server that refuses sends for now (busy) is sent them again with the same client_id, and the run holds")
    func busyServer() async throws {
        let keys = Self.root.appendingPathComponent("google")
        // Eight waiting commands a socket: the scenario's burst of 20 sends overflows it (its chat sockets send 5 at a time).
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: keys) { configuration in
            configuration.connections.socketPendingCommands = 8
        }
        var environment = ScenarioEnvironment(baseURLs: [server.baseURL], seed: 5)
        environment.google = server.google
        let scenario = try Scenario.load(Self.root.appendingPathComponent("scenarios/user-socket.yaml"))
        let result = await ScenarioRunner(scenario: scenario, environment: environment).run()
        await server.stop()
        #expect(result.violations.isEmpty, "\(result.violations.prefix(10).map(\.description).joined(separator: "\n"))")
        let retrySteps = scenario.steps.filter { $0.kind == "retry" }.count
        #expect(result.recording.retries.count > retrySteps, "sends refused as busy were sent again")
    }

    @Test("the same seed gives the same users and messages")
    func replay() async throws {
        let file = Self.root.appendingPathComponent("scenarios/private-chat-lifecycle.yaml")
        let keys = Self.root.appendingPathComponent("google")
        let first = try await ScenarioSuite(files: [file], seed: 99, storage: TestBackend.current.freshStorage())
            .run(serverURLs: [], googleKeys: keys, report: { _ in })
        let second = try await ScenarioSuite(files: [file], seed: 99, storage: TestBackend.current.freshStorage())
            .run(serverURLs: [], googleKeys: keys, report: { _ in })
        #expect(first.map(\.sentContents) == second.map(\.sentContents))
        #expect(first.first?.sentContents.isEmpty == false)
    }
}

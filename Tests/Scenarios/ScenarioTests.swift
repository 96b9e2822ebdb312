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

    @Test("scenario", arguments: files, seeds)
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

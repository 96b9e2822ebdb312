import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Testing

/// The production shape: three server nodes sharing one PostgreSQL database and one Redis, with
/// the scenario's users spread over them. Runs when the suite runs on PostgreSQL + Redis.
@Suite("Several nodes", .enabled(if: TestBackend.current == .postgres, "needs CHAT_TEST_BACKEND=postgres"))
struct MultiNodeTests {
    @Test("every scenario holds with users on three nodes", .timeLimit(.minutes(5)), arguments: ScenarioTests.files)
    func threeNodes(file: URL) async throws {
        let keys = ScenarioTests.root.appendingPathComponent("google")
        let issuer = try await FakeGoogleIssuer.start(keysDirectory: keys)
        let storage = try await TestBackend.postgres.freshStorage()
        var nodes: [InProcessServer] = []
        for _ in 0..<3 {
            nodes.append(try await InProcessServer.start(storage: storage, googleKeys: keys, issuer: issuer))
        }
        var environment = ScenarioEnvironment(baseURLs: nodes.map(\.baseURL), seed: 3)
        environment.google = (issuer, InProcessServer.googleClientID)
        let result = await ScenarioRunner(scenario: try Scenario.load(file), environment: environment).run()
        for node in nodes { await node.stop() }
        await issuer.stop()
        #expect(result.violations.isEmpty, "\(result.violations.map(\.description).joined(separator: "\n"))")
    }
}

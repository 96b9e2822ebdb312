import Foundation

/// Runs scenario files against a server (a URL, or one started in-process) and reports what broke.
public struct ScenarioSuite: Sendable {
    public var files: [URL]
    public var seed: UInt64
    /// A fault to inject into the in-process server's broadcasts, to prove the checks catch it.
    public var fault: FaultyChannelLayer.Fault?

    public init(files: [URL], seed: UInt64, fault: FaultyChannelLayer.Fault? = nil) {
        self.files = files
        self.seed = seed
        self.fault = fault
    }

    /// Runs each scenario in turn; `report` is told of each result as it comes.
    public func run(serverURL: String?, googleKeys: URL, report: @Sendable (ScenarioResult) -> Void) async throws -> [ScenarioResult] {
        let scenarios = try files.map(Scenario.load)
        let fault = self.fault
        let server = serverURL == nil
            ? try await InProcessServer.start(googleKeys: googleKeys) { configuration in
                if let fault { configuration.wrapChannelLayer = { FaultyChannelLayer(wrapping: $0, fault: fault) } }
            }
            : nil
        var results: [ScenarioResult] = []
        for scenario in scenarios {
            var environment = ScenarioEnvironment(baseURL: serverURL ?? server!.baseURL, seed: seed)
            environment.google = server?.google
            let result = await ScenarioRunner(scenario: scenario, environment: environment).run()
            report(result)
            results.append(result)
        }
        await server?.stop()
        return results
    }
}

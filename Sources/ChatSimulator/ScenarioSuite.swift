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

    public init(files: [URL], seed: UInt64, fault: FaultyChannelLayer.Fault? = nil, storage: ServerStorage? = nil) {
        self.files = files
        self.seed = seed
        self.fault = fault
        self.storage = storage
    }

    /// Runs each scenario in turn; `report` is told of each result as it comes.
    /// `serverURLs`: the nodes of the server under test; empty: start one in-process.
    public func run(serverURLs: [String], googleKeys: URL, report: @Sendable (ScenarioResult) -> Void) async throws -> [ScenarioResult] {
        let scenarios = try files.map(Scenario.load)
        let (fault, userSocketFault) = (self.fault, self.userSocketFault)
        let server = serverURLs.isEmpty
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
        var externalIssuer: FakeGoogleIssuer?
        if server == nil, let external = externalGoogle {
            let issuer = try await FakeGoogleIssuer.start(keysDirectory: googleKeys, port: external.port)
            externalIssuer = issuer
            google = (issuer, external.clientID)
        }
        var results: [ScenarioResult] = []
        for scenario in scenarios {
            var environment = ScenarioEnvironment(baseURLs: server.map { [$0.baseURL] } ?? serverURLs, seed: seed)
            environment.google = google
            let result = await ScenarioRunner(scenario: scenario, environment: environment).run()
            report(result)
            results.append(result)
        }
        await server?.stop()
        await externalIssuer?.stop()
        return results
    }
}
